import request from 'supertest';
import { makeImage, makeLargePng, svgWithScript } from '../helpers/images';
import { upload } from '../helpers/http';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

const MAX_FILE_SIZE = 256 * 1024;
const MAX_FILES = 3;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { maxFileSize: MAX_FILE_SIZE, maxFiles: MAX_FILES } });
});

afterAll(async () => {
  await api.close();
});

describe('upload errors', () => {
  test('when the form has no file, then 400 no-images and nothing is stored', async () => {
    const before = await api.stored();

    const response = await request(api.app).post('/image/upload').field('title', 'holiday');

    expectProblem(response, 400, 'no-images');
    expect(response.body).toMatchObject({ instance: '/image/upload' });
    expect(await api.stored()).toEqual(before);
  });

  test('when the file is under another field name, then 400 unexpected-field naming it', async () => {
    const before = await api.stored();

    const response = await upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png', field: 'image' }]);

    expectProblem(response, 400, 'unexpected-field');
    expect(response.body).toMatchObject({ detail: expect.stringContaining('"image"') as unknown });
    expect(await api.stored()).toEqual(before);
  });

  test('when the body is JSON, then 400 not-multipart', async () => {
    const response = await request(api.app).post('/image/upload').send({ images: ['a.png'] });

    expectProblem(response, 400, 'not-multipart');
  });

  test('when there is no body at all, then 400 not-multipart', async () => {
    const response = await request(api.app).post('/image/upload');

    expectProblem(response, 400, 'not-multipart');
  });

  test('when the multipart body is cut off before its end, then 400 malformed-multipart and nothing is stored', async () => {
    const before = await api.stored();
    // Larger than a GridFS chunk, so that chunks exist when the body turns out to be cut off.
    const small = await makeImage('png');
    const png = Buffer.concat([small, Buffer.alloc(MAX_FILE_SIZE - 100 - small.length)]);
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="images"; filename="a.png"\r\n'),
      Buffer.from('Content-Type: image/png\r\n\r\n'),
      png,
    ]);

    const response = await request(api.app)
      .post('/image/upload')
      .set('Content-Type', 'multipart/form-data; boundary=XyZ')
      .send(body);

    expectProblem(response, 400, 'malformed-multipart');
    expect(await api.stored()).toEqual(before);
  });

  test('when the multipart header has no boundary, then 400 malformed-multipart', async () => {
    const response = await request(api.app)
      .post('/image/upload')
      .set('Content-Type', 'multipart/form-data')
      .send('images=1');

    expectProblem(response, 400, 'malformed-multipart');
  });

  test('when a file is over MAX_FILE_SIZE, then 413 file-too-large and none of its chunks remain', async () => {
    const before = await api.stored();

    const response = await upload(api.app, [
      { bytes: await makeLargePng(MAX_FILE_SIZE * 3), filename: 'big.png', contentType: 'image/png' },
    ]);

    expectProblem(response, 413, 'file-too-large');
    expect(await api.stored()).toEqual(before);
  });

  test('when the request announces more bytes than all files could need, then 413 before the body is read', async () => {
    const response = await request(api.app)
      .post('/image/upload')
      .set('Content-Type', 'multipart/form-data; boundary=XyZ')
      .set('Content-Length', String(MAX_FILES * MAX_FILE_SIZE + 3 * 1024 * 1024))
      .send('--XyZ--');

    expectProblem(response, 413, 'file-too-large');
    expect(response.headers.connection).toBe('close');
  });

  test('when a file is exactly MAX_FILE_SIZE, then it is accepted', async () => {
    const png = await makeImage('png', 8, 8);
    const padded = Buffer.concat([png, Buffer.alloc(MAX_FILE_SIZE - png.length)]);

    const response = await upload(api.app, [{ bytes: padded, filename: 'exact.png' }]);

    expect(response.status).toBe(201);
  });

  test('when more than MAX_FILES files are sent, then 413 too-many-files and none is stored', async () => {
    const before = await api.stored();
    const files = await Promise.all(
      Array.from({ length: MAX_FILES + 1 }, async (_, index) => ({
        bytes: await makeImage('png'),
        filename: `${index}.png`,
      })),
    );

    const response = await upload(api.app, files);

    expectProblem(response, 413, 'too-many-files');
    expect(await api.stored()).toEqual(before);
  });

  test.each([
    ['a text file named like a PNG', Buffer.from('just some text, not an image at all'), 'fake.png', 'image/png'],
    ['an SVG with a script', svgWithScript, 'logo.svg', 'image/svg+xml'],
    ['an SVG declared as PNG', svgWithScript, 'logo.png', 'image/png'],
    ['an empty file', Buffer.alloc(0), 'empty.png', 'image/png'],
    ['an executable', Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(70_000, 1)]), 'cat.jpg', 'image/jpeg'],
  ])('when the content is %s, then 415 unsupported-image-type and nothing is stored', async (_, bytes, filename, contentType) => {
    const before = await api.stored();

    const response = await upload(api.app, [{ bytes, filename, contentType }]);

    expectProblem(response, 415, 'unsupported-image-type');
    expect(await api.stored()).toEqual(before);
  });

  test('when a good file comes before a bad one, then 415 and the good one is not kept either', async () => {
    const before = await api.stored();

    const response = await upload(api.app, [
      { bytes: await makeImage('jpeg'), filename: 'good.jpg' },
      { bytes: svgWithScript, filename: 'bad.png' },
    ]);

    expectProblem(response, 415, 'unsupported-image-type');
    expect(await api.stored()).toEqual(before);
  });

  test('when a bad file comes before a good one, then 415 and nothing is stored', async () => {
    const before = await api.stored();

    const response = await upload(api.app, [
      { bytes: svgWithScript, filename: 'bad.png' },
      { bytes: await makeLargePng(200 * 1024), filename: 'good.png' },
    ]);

    expectProblem(response, 415, 'unsupported-image-type');
    expect(await api.stored()).toEqual(before);
  });

  test('when a good file comes before one that is too large, then 413 and neither is kept', async () => {
    const before = await api.stored();

    const response = await upload(api.app, [
      { bytes: await makeImage('gif'), filename: 'good.gif' },
      { bytes: await makeLargePng(MAX_FILE_SIZE * 2), filename: 'big.png' },
    ]);

    expectProblem(response, 413, 'file-too-large');
    expect(await api.stored()).toEqual(before);
  });
});

describe('download errors', () => {
  test('when the id is not an ObjectId, then 400 invalid-id', async () => {
    const response = await request(api.app).get('/image/not-an-id');

    expectProblem(response, 400, 'invalid-id');
  });

  test('when no image has the id, then 404 image-not-found', async () => {
    const response = await request(api.app).get('/image/0123456789abcdef01234567');

    expectProblem(response, 404, 'image-not-found');
  });

  test('when the route does not exist, then 404 route-not-found as problem+json', async () => {
    const response = await request(api.app).get('/images');

    expectProblem(response, 404, 'route-not-found');
  });
});
