import request from 'supertest';
import { download, onlyUploadedImage } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { multipartBody, postMultipart, type MultipartPart } from '../helpers/multipart';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { TUS_HEADERS, uploadMetadata } from '../helpers/tus';

const BOUNDARY = 'hostile-boundary';

describe('hostile input', () => {
  let api: TestApp;
  let png: Buffer;

  beforeAll(async () => {
    api = await startTestApp();
    png = await makeImage('png', 8, 8);
  });

  afterAll(async () => {
    await api.close();
  });

  function imagePart(overrides: Partial<MultipartPart> = {}): MultipartPart {
    return { name: 'images', filename: 'a.png', contentType: 'image/png', body: png, ...overrides };
  }

  test('when the body uses another boundary than its header names, then 400 and nothing is stored', async () => {
    const before = await api.stored();

    const response = await postMultipart(api.app, 'header-boundary', multipartBody('body-boundary', [imagePart()]));

    expectProblem(response, 400, 'malformed-multipart');
    expect(await api.stored()).toEqual(before);
  });

  test('when the body is random bytes, then 400 and nothing is stored', async () => {
    const before = await api.stored();

    const response = await postMultipart(api.app, BOUNDARY, Buffer.from('\u0000\u00ff garbage \r\n--\r\n'.repeat(500)));

    expectProblem(response, 400, 'malformed-multipart');
    expect(await api.stored()).toEqual(before);
  });

  test('when thousands of text fields are sent, then 413 form-too-large and nothing is stored', async () => {
    const before = await api.stored();
    const fields = Array.from({ length: 5000 }, (_, n) => ({ name: `field${n}`, body: Buffer.from('x') }));

    const response = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, [imagePart(), ...fields]));

    expectProblem(response, 413, 'form-too-large');
    expect(await api.stored()).toEqual(before);
  });

  test('when thousands of file parts are sent, then 413 too-many-files and nothing is stored', async () => {
    const before = await api.stored();
    const files = Array.from({ length: 3000 }, () => imagePart());

    const response = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, files));

    expectProblem(response, 413, 'too-many-files');
    expect(await api.stored()).toEqual(before);
  });

  test('when a part has thousands of header lines, then 400 and nothing is stored', async () => {
    const before = await api.stored();
    const extraHeaders = Array.from({ length: 3000 }, (_, n) => `X-Filler-${n}: y`);

    const response = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, [imagePart({ extraHeaders })]));

    expectProblem(response, 400, 'malformed-multipart');
    expect(await api.stored()).toEqual(before);
  });

  test('when a part header is a megabyte long, then 400 and nothing is stored', async () => {
    const before = await api.stored();
    const extraHeaders = [`X-Huge: ${'h'.repeat(1024 * 1024)}`];

    const response = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, [imagePart({ extraHeaders })]));

    expectProblem(response, 400, 'malformed-multipart');
    expect(await api.stored()).toEqual(before);
  });

  test('when the file name is not valid UTF-8, then the image is stored under a readable name', async () => {
    const filename = Buffer.from([0x63, 0xff, 0xfe, 0x80, 0x2e, 0x70, 0x6e, 0x67]);

    const response = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, [imagePart({ filename })]));

    expect(response.status).toBe(201);
    const image = onlyUploadedImage(response);
    expect(image.filename).toBe('c\uFFFD\uFFFD\uFFFD.png');
    const downloaded = await download(api.app, image.url);
    expect(downloaded.bytes.equals(png)).toBe(true);
    expect(downloaded.headers['content-disposition']).toBe(
      "inline; filename=c___.png; filename*=UTF-8''c%EF%BF%BD%EF%BF%BD%EF%BF%BD.png",
    );
  });

  test('when file names carry control or bidirectional characters, then multipart and tus uploads store each as U+FFFD', async () => {
    const unsafe = ['\u0001', '\t', '\u001b', '\u007f', '\u0085', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\u061c'];
    const multipartName = `photo${unsafe.join('')}gnp.exe`;
    const tusName = `line\r\nbreak${unsafe.join('')}.png`;

    // busboy refuses raw controls in a quoted filename; RFC 5987's filename* carries them percent-encoded.
    const extendedFilename = `ignored"; filename*=UTF-8''${encodeURIComponent(multipartName)}; x="`;
    const multipart = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, [imagePart({ filename: extendedFilename })]));
    const resumable = await request(api.app)
      .post('/image/uploads')
      .set({ ...TUS_HEADERS, 'Upload-Length': String(png.length), 'Upload-Metadata': uploadMetadata({ filename: tusName }) })
      .set('Content-Type', 'application/offset+octet-stream')
      .send(png);

    expect([multipart.status, resumable.status]).toEqual([201, 201]);
    const replaced = '\uFFFD'.repeat(unsafe.length);
    const multipartInfo = await request(api.app).get(`${onlyUploadedImage(multipart).url}/info`);
    const tusInfo = await request(api.app).get(`${String(resumable.headers['x-image-url'])}/info`);
    expect((multipartInfo.body as { filename: string }).filename).toBe(`photo${replaced}gnp.exe`);
    expect((tusInfo.body as { filename: string }).filename).toBe(`line\uFFFD\uFFFDbreak${replaced}.png`);
    expect(onlyUploadedImage(multipart).filename).toBe(`photo${replaced}gnp.exe`);
  });

  test('when the file name is 10,000 characters long, then it is stored and served cut to 200', async () => {
    const filename = `${'n'.repeat(10_000)}.png`;

    const response = await postMultipart(api.app, BOUNDARY, multipartBody(BOUNDARY, [imagePart({ filename })]));

    expect(response.status).toBe(201);
    const downloaded = await download(api.app, onlyUploadedImage(response).url);
    expect(downloaded.bytes.equals(png)).toBe(true);
    expect(downloaded.headers['content-disposition']).toBe(`inline; filename=${'n'.repeat(200)}.png`);
  });

  test.each([
    ['GET', '/image/'],
    ['GET', '/image/%s/info'],
    ['DELETE', '/image/'],
  ])('when %s %s is asked with an id of 10,000 characters, then 400 invalid-id', async (method, path) => {
    const id = 'a'.repeat(10_000);
    const url = path.includes('%s') ? path.replace('%s', id) : `${path}${id}`;

    const response = await request(api.app)[method === 'GET' ? 'get' : 'delete'](url);

    expectProblem(response, 400, 'invalid-id');
    expect(JSON.stringify(response.body).length).toBeLessThan(12_000);
  });
});
