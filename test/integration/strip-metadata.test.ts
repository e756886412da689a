import sharp from 'sharp';
import { download, onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import {
  carriesPersonalMetadata,
  makeImageWithPersonalMetadata,
  pngChunkTypes,
  sha256,
  webpChunkTypes,
  withCommentAndIptc,
  withPngComment,
} from '../helpers/images';
import { startTestApp, type TestApp } from '../helpers/test-app';

interface StoredFile {
  readonly bytes: Buffer;
  readonly length: number;
  readonly sha256: unknown;
  readonly etag: string | undefined;
}

/** The file as the database holds it and as a client downloads it. */
async function storedFile(api: TestApp, image: UploadedImage): Promise<StoredFile> {
  const document = await api.db.collection('images.files').findOne({ filename: image.filename });
  const downloaded = await download(api.app, image.url);
  expect(downloaded.status).toBe(200);
  return {
    bytes: downloaded.bytes,
    length: Number(document?.length),
    sha256: (document?.metadata as { sha256?: unknown } | undefined)?.sha256,
    etag: downloaded.headers.etag,
  };
}

function expectFactsOfStoredBytes(image: UploadedImage, stored: StoredFile): void {
  expect(image.size).toBe(stored.bytes.length);
  expect(stored.length).toBe(stored.bytes.length);
  expect(stored.sha256).toBe(sha256(stored.bytes));
  expect(stored.etag).toBe(`"${sha256(stored.bytes)}"`);
}

async function pixelsOf(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes).raw().toBuffer();
}

describe('metadata stripped at rest (STRIP_METADATA=true)', () => {
  let api: TestApp;

  beforeEach(async () => {
    api = await startTestApp({ config: { stripMetadata: true } });
  });

  afterEach(async () => {
    await api.close();
  });

  test('when a JPEG carrying GPS is uploaded, then it is stored without GPS, EXIF, XMP, IPTC and comment, its pixels decoding identical', async () => {
    const original = withCommentAndIptc(await makeImageWithPersonalMetadata('jpeg'));
    expect(carriesPersonalMetadata(original)).toBe(true);

    const response = await upload(api.app, [{ bytes: original, filename: 'phone.jpg' }]);

    expect(response.status).toBe(201);
    const image = onlyUploadedImage(response);
    const stored = await storedFile(api, image);
    expect(stored.bytes.length).toBeLessThan(original.length);
    expect(carriesPersonalMetadata(stored.bytes)).toBe(false);
    expect(await pixelsOf(stored.bytes)).toEqual(await pixelsOf(original));
    expectFactsOfStoredBytes(image, stored);
  });

  test('when a JPEG with an ICC profile and orientation 6 is uploaded, then both are kept and the EXIF holds the orientation alone', async () => {
    const original = await makeImageWithPersonalMetadata('jpeg');
    const before = await sharp(original).metadata();

    const response = await upload(api.app, [{ bytes: original, filename: 'turned.jpg' }]);

    expect(response.status).toBe(201);
    const after = await sharp((await storedFile(api, onlyUploadedImage(response))).bytes).metadata();
    expect(after.orientation).toBe(6);
    expect(after.icc).toEqual(before.icc);
    expect(after.xmp).toBeUndefined();
    expect(after.exif?.length).toBe('Exif\0\0'.length + 26);
  });

  test('when a PNG with text, EXIF and an ICC profile is uploaded, then text and EXIF go, the ICC profile and orientation stay', async () => {
    const original = withPngComment(await makeImageWithPersonalMetadata('png'));
    const before = await sharp(original).metadata();

    const response = await upload(api.app, [{ bytes: original, filename: 'screenshot.png' }]);

    expect(response.status).toBe(201);
    const image = onlyUploadedImage(response);
    const stored = await storedFile(api, image);
    expect(carriesPersonalMetadata(stored.bytes)).toBe(false);
    expect(pngChunkTypes(stored.bytes)).not.toContain('tEXt');
    expect(await pixelsOf(stored.bytes)).toEqual(await pixelsOf(original));
    const after = await sharp(stored.bytes).metadata();
    expect(after.icc).toEqual(before.icc);
    expect(after.orientation).toBe(6);
    expect(after.exif?.length).toBe(26);
    expectFactsOfStoredBytes(image, stored);
  });

  test('when a WebP with EXIF, XMP and an ICC profile is uploaded, then EXIF and XMP are overwritten, the headers fixed, ICC and orientation kept', async () => {
    const original = await makeImageWithPersonalMetadata('webp');
    const before = await sharp(original).metadata();

    const response = await upload(api.app, [{ bytes: original, filename: 'camera.webp' }]);

    expect(response.status).toBe(201);
    const image = onlyUploadedImage(response);
    const stored = await storedFile(api, image);
    expect(carriesPersonalMetadata(stored.bytes)).toBe(false);
    expect(webpChunkTypes(stored.bytes)).toEqual(['VP8X', 'ICCP', 'VP8 ', 'EXIF', 'JUNK', 'JUNK']);
    expect(stored.bytes.readUInt32LE(4)).toBe(stored.bytes.length - 8);
    const vp8xFlags = stored.bytes[20] ?? 0;
    expect({ icc: vp8xFlags & 0x20, exif: vp8xFlags & 0x08, xmp: vp8xFlags & 0x04 }).toEqual({ icc: 0x20, exif: 0x08, xmp: 0 });
    expect(await pixelsOf(stored.bytes)).toEqual(await pixelsOf(original));
    const after = await sharp(stored.bytes).metadata();
    expect(after.icc).toEqual(before.icc);
    expect(after.orientation).toBe(6);
    expect(after.xmp).toBeUndefined();
    expectFactsOfStoredBytes(image, stored);
  });
});

describe('metadata kept by default', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
  });

  afterAll(async () => {
    await api.close();
  });

  test('when STRIP_METADATA is not set and a JPEG carrying GPS is uploaded, then it is stored byte for byte', async () => {
    const original = withCommentAndIptc(await makeImageWithPersonalMetadata('jpeg'));

    const response = await upload(api.app, [{ bytes: original, filename: 'exact.jpg' }]);

    expect(response.status).toBe(201);
    const image = onlyUploadedImage(response);
    const stored = await storedFile(api, image);
    expect(stored.bytes.equals(original)).toBe(true);
    expectFactsOfStoredBytes(image, stored);
  });
});
