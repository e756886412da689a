import request from 'supertest';
import { contentTypes, makeImage, makeLargePng, sha256, type Format } from '../helpers/images';
import { download, onlyUploadedImage, upload, uploadedImages } from '../helpers/http';
import { startTestApp, type TestApp } from '../helpers/test-app';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

describe('upload then download', () => {
  test.each<Format>(['png', 'jpeg', 'gif', 'webp', 'avif'])(
    'when a %s image is uploaded, then GET returns the same bytes with its type and length',
    async (format) => {
      const bytes = await makeImage(format);
      const filename = `picture.${format}`;

      const uploaded = await upload(api.app, [{ bytes, filename, contentType: contentTypes[format] }]);

      expect(uploaded.status).toBe(201);
      expect(uploaded.body).toEqual({
        message: 'Images uploaded successfully',
        images: [
          {
            id: expect.stringMatching(/^[0-9a-f]{24}$/) as unknown,
            filename,
            contentType: contentTypes[format],
            size: bytes.length,
            url: expect.stringMatching(/^\/image\/[0-9a-f]{24}$/) as unknown,
            duplicate: false,
          },
        ],
      });
      const downloaded = await download(api.app, onlyUploadedImage(uploaded).url);
      expect(downloaded.status).toBe(200);
      expect(downloaded.headers['content-type']).toBe(contentTypes[format]);
      expect(downloaded.headers['content-length']).toBe(String(bytes.length));
      expect(downloaded.headers['x-content-type-options']).toBe('nosniff');
      expect(sha256(downloaded.bytes)).toBe(sha256(bytes));
    },
  );

  test('when the client declares another type and extension, then the type stored comes from the bytes', async () => {
    const bytes = await makeImage('webp');

    const uploaded = await upload(api.app, [{ bytes, filename: 'notes.txt', contentType: 'text/plain' }]);

    expect(uploaded.status).toBe(201);
    const image = onlyUploadedImage(uploaded);
    expect(image.contentType).toBe('image/webp');
    const stored = await api.db.collection('images.files').findOne({ filename: 'notes.txt' });
    expect(stored?.metadata).toEqual({ contentType: 'image/webp', width: 64, height: 48, sha256: sha256(bytes) });
    const downloaded = await download(api.app, image.url);
    expect(downloaded.headers['content-type']).toBe('image/webp');
  });

  test('when a 20 MiB image is uploaded, then it is stored in many chunks and read back byte-exact', async () => {
    const bytes = await makeLargePng(20 * 1024 * 1024);
    const before = await api.stored();

    const uploaded = await upload(api.app, [{ bytes, filename: 'large.png', contentType: 'image/png' }]);

    expect(uploaded.status).toBe(201);
    const image = onlyUploadedImage(uploaded);
    expect(image.size).toBe(bytes.length);
    const after = await api.stored();
    expect(after.files - before.files).toBe(1);
    expect(after.chunks - before.chunks).toBe(Math.ceil(bytes.length / (255 * 1024)));
    const downloaded = await download(api.app, image.url);
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers['content-length']).toBe(String(bytes.length));
    expect(sha256(downloaded.bytes)).toBe(sha256(bytes));
  });

  test('when HEAD asks for an image, then it gets the headers of GET and no body', async () => {
    const bytes = await makeImage('png');
    const image = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'head.png' }]));

    const response = await request(api.app).head(image.url);

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    expect(response.text).toBeUndefined();
  });

  test('when several files are sent in one request, then each gets its own id and reads back', async () => {
    const formats: Format[] = ['png', 'jpeg', 'gif', 'webp'];
    const files = await Promise.all(
      formats.map(async (format) => ({ bytes: await makeImage(format), filename: `many.${format}` })),
    );

    const uploaded = await upload(api.app, files);

    expect(uploaded.status).toBe(201);
    const images = uploadedImages(uploaded);
    expect(images.map((image) => image.filename)).toEqual(files.map((file) => file.filename));
    expect(new Set(images.map((image) => image.id)).size).toBe(files.length);
    for (const [index, image] of images.entries()) {
      const downloaded = await download(api.app, image.url);
      expect(downloaded.status).toBe(200);
      expect(sha256(downloaded.bytes)).toBe(sha256(files[index]?.bytes ?? Buffer.alloc(0)));
    }
  });
});
