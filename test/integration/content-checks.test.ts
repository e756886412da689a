import sharp from 'sharp';
import request from 'supertest';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeBmp, makeFlatAnimatedGif, makeImage, pngClaiming, sha256 } from '../helpers/images';
import { TUS_HEADERS, uploadMetadata } from '../helpers/tus';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('content checks', () => {
  let api: TestApp;
  let bmpApi: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ config: { maxPixels: 1_000_000 } });
    bmpApi = await startTestApp({ config: { allowedTypes: ['png', 'bmp'] } });
  });

  afterAll(async () => {
    await api.close();
    await bmpApi.close();
  });

  test('when a PNG claims 40000×40000 pixels, then 413 names the pixel count and nothing is stored', async () => {
    const bomb = pngClaiming(40_000, 40_000, 300 * 1024);
    const before = await api.stored();

    const response = await upload(api.app, [{ bytes: bomb, filename: 'bomb.png', contentType: 'image/png' }]);

    expectProblem(response, 413, 'too-many-pixels');
    expect((response.body as { detail: string }).detail).toBe(
      'bomb.png is 40000×40000, 1600000000 pixels; at most 1000000 pixels are accepted.',
    );
    expect(await api.stored()).toEqual(before);
  });

  test('when an image is exactly at the pixel limit, then it is stored', async () => {
    const bytes = await makeImage('png', 1000, 1000);

    const response = await upload(api.app, [{ bytes, filename: 'square.png' }]);

    expect(response.status).toBe(201);
    const stored = await api.db.collection('images.files').findOne({ filename: 'square.png' });
    expect(stored?.metadata).toEqual({ contentType: 'image/png', width: 1000, height: 1000, sha256: sha256(bytes) });
  });

  /** A GIF whose logical screen claims 10×10, whatever its frames are: all its header tells. */
  function withSmallScreen(gif: Buffer): Buffer {
    const lying = Buffer.from(gif);
    lying.writeUInt16LE(10, 6);
    lying.writeUInt16LE(10, 8);
    return lying;
  }

  /** One tus request that creates the upload and sends all of it (creation-with-upload). */
  const resumableUpload = (bytes: Buffer, filename: string) =>
    request(api.app)
      .post('/image/uploads')
      .set({ ...TUS_HEADERS, 'Upload-Length': String(bytes.length), 'Upload-Metadata': uploadMetadata({ filename }) })
      .set('Content-Type', 'application/offset+octet-stream')
      .send(bytes);

  test('when an animated GIF has frames each under MAX_PIXELS but more than it all together, then 413 counts every frame and nothing is stored', async () => {
    const before = await api.stored();

    const response = await upload(api.app, [{ bytes: await makeFlatAnimatedGif(800, 600, 3), filename: 'spin.gif' }]);

    expectProblem(response, 413, 'too-many-pixels');
    expect((response.body as { detail: string }).detail).toBe(
      'spin.gif is 3 frames of 800×600, 1440000 pixels; at most 1000000 pixels are accepted.',
    );
    expect(await api.stored()).toEqual(before);
  });

  test('when a GIF header claims 10×10 but its frame is 1200×1000, then multipart and tus uploads are refused with 413 and nothing is stored', async () => {
    const lying = withSmallScreen(await makeFlatAnimatedGif(1200, 1000, 1));
    const before = await api.stored();

    const multipart = await upload(api.app, [{ bytes: lying, filename: 'small.gif' }]);
    const resumable = await resumableUpload(lying, 'small.gif');

    for (const response of [multipart, resumable]) {
      expectProblem(response, 413, 'too-many-pixels');
      expect((response.body as { detail: string }).detail).toBe('small.gif is 1200×1000, 1200000 pixels; at most 1000000 pixels are accepted.');
    }
    expect(await api.stored()).toEqual(before);
    expect(await api.db.collection('images.uploads').countDocuments()).toBe(0);
  });

  test('when an animated GIF and an animated WebP stay under MAX_PIXELS with all their frames, then both ways store them', async () => {
    const gif = await makeFlatAnimatedGif(400, 300, 3);
    const webp = await sharp(gif, { animated: true }).webp().toBuffer();

    const answers = [
      await upload(api.app, [{ bytes: gif, filename: 'ok.gif' }]),
      await upload(api.app, [{ bytes: webp, filename: 'ok.webp' }]),
      await resumableUpload(webp, 'ok-too.webp'),
    ];

    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
  });

  test('when a BMP arrives and the allow-list leaves it out, then 415 lists what is accepted', async () => {
    const response = await upload(api.app, [{ bytes: makeBmp(), filename: 'old.bmp', contentType: 'image/bmp' }]);

    expectProblem(response, 415, 'unsupported-image-type');
    expect((response.body as { detail: string }).detail).toBe(
      'old.bmp: images of type "bmp" are not accepted. Accepted: jpeg, png, gif, webp, avif.',
    );
  });

  test('when ALLOWED_TYPES includes bmp, then a BMP sent as a JPEG is stored as image/bmp', async () => {
    const bytes = makeBmp();

    const response = await upload(bmpApi.app, [{ bytes, filename: 'old.jpg', contentType: 'image/jpeg' }]);

    expect(response.status).toBe(201);
    expect(onlyUploadedImage(response).contentType).toBe('image/bmp');
    const downloaded = await request(bmpApi.app).get(onlyUploadedImage(response).url);
    expect(downloaded.headers['content-type']).toBe('image/bmp');
    expect(downloaded.headers['content-disposition']).toContain('old.jpg.bmp');
  });

  test('when ALLOWED_TYPES leaves out jpeg, then a JPEG is refused', async () => {
    const before = await bmpApi.stored();

    const response = await upload(bmpApi.app, [{ bytes: await makeImage('jpeg'), filename: 'photo.jpg' }]);

    expectProblem(response, 415, 'unsupported-image-type');
    expect(await bmpApi.stored()).toEqual(before);
  });
});
