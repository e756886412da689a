import request from 'supertest';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeFlatAnimatedGif, makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { TUS_HEADERS, uploadMetadata } from '../helpers/tus';
import { createInspectionLimiter } from '../../src/uploads/inspection-limiter';

/** Counting a GIF's frames reads it whole: INSPECTION_CONCURRENCY bounds how many at once. */
describe('INSPECTION_CONCURRENCY and INSPECTION_QUEUE', () => {
  const inspections = createInspectionLimiter({ concurrency: 1, queueLength: 0 });
  let api: TestApp;
  let letGo: () => void = () => undefined;

  beforeAll(async () => {
    api = await startTestApp({ inspections });
  });

  afterAll(async () => {
    await api.close();
  });

  /** Takes the one place, as a long frame count would, until `letGo`. */
  function holdThePlace(): Promise<void> {
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    return inspections.run(() => held);
  }

  test('when the places are taken, then a GIF upload answers 503 inspections-busy with Retry-After and stores nothing, and once free the same upload is stored', async () => {
    const gif = await makeFlatAnimatedGif(40, 30, 3);
    const before = await api.stored();
    const holding = holdThePlace();

    const refused = await upload(api.app, [{ bytes: gif, filename: 'spin.gif' }]);

    expectProblem(refused, 503, 'inspections-busy');
    expect(refused.headers['retry-after']).toBe('1');
    expect(await api.stored()).toEqual(before);
    letGo();
    await holding;
    const stored = onlyUploadedImage(await upload(api.app, [{ bytes: gif, filename: 'spin.gif' }]).expect(201));
    expect((await download(api.app, `/image/${stored.id}`)).bytes.equals(gif)).toBe(true);
  });

  test('when the places are taken, then a JPEG, whose header tells its pixels, is stored without waiting', async () => {
    const holding = holdThePlace();
    try {
      const jpeg = await makeImage('jpeg', 64, 48);

      const stored = onlyUploadedImage(await upload(api.app, [{ bytes: jpeg, filename: 'flat.jpg' }]).expect(201));

      expect((await download(api.app, `/image/${stored.id}`)).bytes.equals(jpeg)).toBe(true);
    } finally {
      letGo();
      await holding;
    }
  });

  test('when the places are taken as a resumable GIF upload finishes, then it answers 503 and keeps its bytes, and the retry of its end stores it byte-exact', async () => {
    const gif = await makeFlatAnimatedGif(40, 30, 3);
    const holding = holdThePlace();

    const created = await request(api.app)
      .post('/image/uploads')
      .set({ ...TUS_HEADERS, 'Upload-Length': String(gif.length), 'Upload-Metadata': uploadMetadata({ filename: 'spin.gif' }) })
      .expect(201);
    const location = String(created.headers.location);

    const refused = await request(api.app)
      .patch(location)
      .set({ ...TUS_HEADERS, 'Upload-Offset': '0' })
      .set('Content-Type', 'application/offset+octet-stream')
      .send(gif);

    expectProblem(refused, 503, 'inspections-busy');
    letGo();
    await holding;
    const head = await request(api.app).head(location).set(TUS_HEADERS).expect(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeLessThan(gif.length);
    const finished = await request(api.app)
      .patch(location)
      .set({ ...TUS_HEADERS, 'Upload-Offset': String(offset) })
      .set('Content-Type', 'application/offset+octet-stream')
      .send(gif.subarray(offset))
      .expect(204);
    const imageId = String(finished.headers['x-image-id']);
    expect((await download(api.app, `/image/${imageId}`)).bytes.equals(gif)).toBe(true);
  });
});
