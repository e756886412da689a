import { inspectHead, MAX_HEAD_BYTES } from '../../src/media/image-inspection';
import { contentTypes, makeImage, svgWithScript, type Format } from '../helpers/images';

describe('inspectHead', () => {
  test.each<Format>(['png', 'jpeg', 'gif', 'webp', 'avif'])(
    'when the bytes are a %s image, then its type and size are read from them',
    async (format) => {
      const bytes = await makeImage(format, 40, 30);

      expect(inspectHead(bytes, true)).toEqual({
        kind: 'image',
        type: format,
        contentType: contentTypes[format],
        width: 40,
        height: 30,
      });
    },
  );

  test('when only the start of a JPEG has arrived, then more bytes are asked for', async () => {
    const bytes = await makeImage('jpeg');

    expect(inspectHead(bytes.subarray(0, 16), false)).toEqual({ kind: 'need-more-bytes' });
  });

  test('when the file ends before its header does, then it is not recognised', async () => {
    const bytes = await makeImage('jpeg');

    expect(inspectHead(bytes.subarray(0, 16), true)).toMatchObject({ kind: 'unrecognised' });
  });

  test('when the bytes are an SVG, then it is not recognised as an image even though it parses', () => {
    expect(inspectHead(svgWithScript, true)).toEqual({
      kind: 'unrecognised',
      reason: 'Images of type "svg" are not accepted.',
    });
  });

  test('when a bitmap arrives, then it is recognised as bmp with its size', () => {
    const bmp = Buffer.alloc(64);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(2, 18);
    bmp.writeInt32LE(2, 22);

    expect(inspectHead(bmp, true)).toEqual({ kind: 'image', type: 'bmp', contentType: 'image/bmp', width: 2, height: 2 });
  });

  test('when the first bytes match no image and the cap is reached, then it is not recognised without the end', () => {
    expect(inspectHead(Buffer.alloc(MAX_HEAD_BYTES, 0x41), false)).toMatchObject({ kind: 'unrecognised' });
  });
});
