import fc from 'fast-check';
import sharp from 'sharp';
import { randomBytes } from 'node:crypto';
import { minimalExif, readOrientation } from '../../src/media/metadata/exif-orientation';
import { createMetadataFilter } from '../../src/media/metadata/metadata-filter';
import type { ImageType } from '../../src/media/image-inspection';
import {
  carriesPersonalMetadata,
  makeImageWithPersonalMetadata,
  personalMetadata,
  pngChunkTypes,
  webpChunkTypes,
  withCommentAndIptc,
  withPngComment,
} from '../helpers/images';

/** The filter's output for the file cut at these offsets. */
function filterInPieces(type: ImageType, bytes: Buffer, cuts: readonly number[] = []): Buffer {
  const filter = createMetadataFilter(type);
  const offsets = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const out = offsets.slice(1).flatMap((end, index) => filter.push(bytes.subarray(offsets[index], end)));
  return Buffer.concat([...out, ...filter.end()]);
}

function comment(text: string): Buffer {
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(2 + text.length, 2);
  segment.write(text, 4, 'latin1');
  return segment;
}

describe('JPEG metadata filter', () => {
  test('when a file is cut anywhere, then the output is the same as for the file in one piece', async () => {
    const original = withCommentAndIptc(await makeImageWithPersonalMetadata('jpeg'));
    const whole = filterInPieces('jpeg', original);

    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: original.length }), { maxLength: 40 }), (cuts) => {
        expect(filterInPieces('jpeg', original, cuts)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
    expect(carriesPersonalMetadata(whole)).toBe(false);
  });

  test('when a file arrives byte by byte, then it comes out the same as in one piece', async () => {
    const original = withCommentAndIptc(await makeImageWithPersonalMetadata('jpeg'));
    const everyByte = Array.from({ length: original.length - 1 }, (_, index) => index + 1);

    expect(filterInPieces('jpeg', original, everyByte)).toEqual(filterInPieces('jpeg', original));
  });

  test('when a comment sits between the scans of a progressive JPEG, then it goes and the scans stay', async () => {
    const progressive = await sharp(randomBytes(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } })
      .jpeg({ progressive: true })
      .toBuffer();
    const startOfScan = Buffer.from([0xff, 0xda]);
    const secondScan = progressive.indexOf(startOfScan, progressive.indexOf(startOfScan) + 2);
    const withComment = Buffer.concat([
      progressive.subarray(0, secondScan),
      comment(personalMetadata.comment),
      progressive.subarray(secondScan),
    ]);

    expect(filterInPieces('jpeg', withComment)).toEqual(progressive);
  });

  test('when a kept segment arrives in small pieces, then its bytes are passed on as they come, not held', async () => {
    const original = await makeImageWithPersonalMetadata('jpeg');
    const filter = createMetadataFilter('jpeg');
    const iccStart = original.indexOf(Buffer.from('ICC_PROFILE', 'latin1')) - 4;
    filter.push(original.subarray(0, iccStart + 4));

    const passed = filter.push(original.subarray(iccStart + 4, iccStart + 104));

    expect(Buffer.concat(passed)).toEqual(original.subarray(iccStart + 4, iccStart + 104));
  });

  test('when a file ends in the middle of a segment header, then the bytes it had are kept', async () => {
    const original = await makeImageWithPersonalMetadata('jpeg');

    expect(filterInPieces('jpeg', original.subarray(0, 3))).toEqual(original.subarray(0, 3));
  });
});

describe('PNG metadata filter', () => {
  test('when a file is cut anywhere, then text and eXIf chunks go, the rest stays in order, the same as in one piece', async () => {
    const original = withPngComment(await makeImageWithPersonalMetadata('png'));
    const whole = filterInPieces('png', original);

    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: original.length }), { maxLength: 40 }), (cuts) => {
        expect(filterInPieces('png', original, cuts)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
    expect(pngChunkTypes(original)).toEqual(expect.arrayContaining(['tEXt', 'zTXt', 'eXIf']));
    expect(pngChunkTypes(whole)).toEqual(pngChunkTypes(original).filter((type) => !['tEXt', 'zTXt'].includes(type)));
    expect(carriesPersonalMetadata(whole)).toBe(false);
  });

  test('when an eXIf chunk has no orientation, then it goes whole', async () => {
    const plain = await sharp(randomBytes(8 * 8 * 3), { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .withExif({ IFD0: { Artist: personalMetadata.artist } })
      .toBuffer();

    expect(pngChunkTypes(filterInPieces('png', plain))).not.toContain('eXIf');
  });
});

describe('WebP metadata filter', () => {
  test('when a file is cut anywhere, then EXIF and XMP are overwritten in place, the same as in one piece', async () => {
    const original = await makeImageWithPersonalMetadata('webp');
    const whole = filterInPieces('webp', original);

    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: original.length }), { maxLength: 40 }), (cuts) => {
        expect(filterInPieces('webp', original, cuts)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
    expect(webpChunkTypes(original)).toEqual(['VP8X', 'ICCP', 'VP8 ', 'EXIF', 'XMP ']);
    expect(webpChunkTypes(whole)).toEqual(['VP8X', 'ICCP', 'VP8 ', 'EXIF', 'JUNK', 'JUNK']);
    expect(whole.length).toBe(original.length);
    expect(carriesPersonalMetadata(whole)).toBe(false);
  });

  test('when an EXIF chunk is larger than a segment is gathered, then it becomes zeros under the same length', async () => {
    const longArtist = 'a'.repeat(70 * 1024);
    const small = await sharp(randomBytes(8 * 8 * 3), { raw: { width: 8, height: 8, channels: 3 } })
      .webp()
      .withExif({ IFD0: { Artist: 'someone' } })
      .toBuffer();
    // libvips cuts long EXIF strings short, so the large EXIF chunk that ends the file is made here.
    const exifPayload = Buffer.concat([minimalExif(undefined), Buffer.from(longArtist, 'latin1')]);
    const exifHeader = Buffer.from('EXIF\0\0\0\0', 'latin1');
    exifHeader.writeUInt32LE(exifPayload.length, 4);
    const large = Buffer.concat([small.subarray(0, small.indexOf('EXIF', 12, 'latin1')), exifHeader, exifPayload]);
    large.writeUInt32LE(large.length - 8, 4);

    const filtered = filterInPieces('webp', large);

    expect(webpChunkTypes(filtered)).toEqual(['VP8X', 'VP8 ', 'JUNK']);
    expect(filtered.length).toBe(large.length);
    expect(filtered.includes(longArtist.slice(0, 64), 0, 'latin1')).toBe(false);
    expect(await sharp(filtered).raw().toBuffer()).toEqual(await sharp(large).raw().toBuffer());
  });
});

describe('EXIF orientation', () => {
  test.each([2, 6, 8])('when an EXIF block holds orientation %i alone, then it is read back', (orientation) => {
    expect(readOrientation(minimalExif(orientation))).toBe(orientation);
  });

  test('when sharp writes EXIF with orientation 6 and more, then the orientation is read from it', async () => {
    const { exif } = await sharp(await makeImageWithPersonalMetadata('jpeg')).metadata();

    expect(readOrientation(exif ?? Buffer.alloc(0))).toBe(6);
  });

  test.each([
    ['no orientation', minimalExif(undefined)],
    ['a directory cut short', minimalExif(6).subarray(0, 20)],
    ['a directory offset past the end', Buffer.from('MM\0\x2a\0\0\xff\xff', 'latin1')],
    ['no byte order', Buffer.from('XX\0\x2a\0\0\0\x08\0\0', 'latin1')],
    ['too few bytes', Buffer.from('MM', 'latin1')],
  ])('when the EXIF block has %s, then there is no orientation to keep', (_, exif) => {
    expect(readOrientation(exif)).toBeUndefined();
  });
});
