import request from 'supertest';
import { makeImage, makeLargePng, sha256 } from '../helpers/images';
import { download, onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

const CHUNK = 255 * 1024;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

async function store(bytes: Buffer, filename = 'photo.png'): Promise<UploadedImage> {
  return onlyUploadedImage(await upload(api.app, [{ bytes, filename }]));
}

describe('caching headers', () => {
  test('when an image is read, then it carries a strong ETag of its sha256 and immutable caching headers', async () => {
    const bytes = await makeImage('png');
    const image = await store(bytes);
    const stored = await api.db.collection('images.files').findOne({ filename: 'photo.png', length: bytes.length });

    const response = await download(api.app, image.url);

    expect(response.headers).toMatchObject({
      etag: `"${sha256(bytes)}"`,
      'last-modified': (stored?.uploadDate as Date).toUTCString(),
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
      'content-disposition': 'inline; filename=photo.png',
    });
  });

  test('when If-None-Match names the ETag, then 304 with no body, the same ETag and no Last-Modified', async () => {
    const image = await store(await makeImage('jpeg'));
    const first = await request(api.app).get(image.url);

    const response = await request(api.app).get(image.url).set('If-None-Match', first.headers.etag ?? '');

    expect(response.status).toBe(304);
    expect(response.text).toBe('');
    expect(response.headers.etag).toBe(first.headers.etag);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // RFC 9110, 15.4.5: with an ETag in the 304, Last-Modified is not sent again.
    expect(response.headers['last-modified']).toBeUndefined();
  });

  test('when If-None-Match names another ETag, then the whole image', async () => {
    const bytes = await makeImage('jpeg');
    const image = await store(bytes);

    const response = await request(api.app).get(image.url).set('If-None-Match', '"something-else"');

    expect(response.status).toBe(200);
  });

  test('when If-Modified-Since is at or after the upload, then 304; when before, then 200', async () => {
    const image = await store(await makeImage('gif'));
    const lastModified = (await request(api.app).head(image.url)).headers['last-modified'] ?? '';
    const before = new Date(Date.parse(lastModified) - 60_000).toUTCString();

    const fresh = await request(api.app).get(image.url).set('If-Modified-Since', lastModified);
    const stale = await request(api.app).get(image.url).set('If-Modified-Since', before);

    expect(fresh.status).toBe(304);
    expect(stale.status).toBe(200);
  });

  test('when HEAD asks, then the headers of GET and no body', async () => {
    const bytes = await makeImage('webp');
    const image = await store(bytes);
    const get = await download(api.app, image.url);

    const head = await request(api.app).head(image.url);

    expect(head.status).toBe(200);
    expect(head.text).toBeUndefined();
    for (const name of ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control', 'content-disposition']) {
      expect(head.headers[name]).toBe(get.headers[name]);
    }
  });
});

describe('range requests', () => {
  let bytes: Buffer;
  let image: UploadedImage;

  beforeAll(async () => {
    bytes = await makeLargePng(3 * CHUNK + 1000);
    image = await store(bytes, 'ranges.png');
  });

  test.each([
    ['bytes=0-99', 0, 99],
    ['bytes=1000-', 1000, undefined],
    ['bytes=-500', undefined, undefined],
    ['a range starting in the middle of a later chunk', 2 * CHUNK + 12345, 3 * CHUNK + 17],
    ['the last byte', -1, -1],
  ])('when the range is %s, then 206 with exactly those bytes', async (label, from, to) => {
    const size = bytes.length;
    const start = from === undefined ? size - 500 : from === -1 ? size - 1 : from;
    const end = to === undefined ? size - 1 : to === -1 ? size - 1 : to;
    const header = label.startsWith('bytes=') ? label : `bytes=${start}-${end}`;

    const response = await download(api.app, image.url, { Range: header });

    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.bytes.equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  test('when the range starts past the end, then 416 with Content-Range bytes */size', async () => {
    const response = await request(api.app).get(image.url).set('Range', `bytes=${bytes.length}-`);

    expectProblem(response, 416, 'range-not-satisfiable');
    expect(response.headers['content-range']).toBe(`bytes */${bytes.length}`);
  });

  test('when If-Range names the current ETag, then the range is served', async () => {
    const etag = (await request(api.app).head(image.url)).headers.etag ?? '';

    const response = await download(api.app, image.url, { Range: 'bytes=10-19', 'If-Range': etag });

    expect(response.status).toBe(206);
    expect(response.bytes.equals(bytes.subarray(10, 20))).toBe(true);
  });

  test('when If-Range names another ETag or an older date, then the whole image instead', async () => {
    const byEtag = await download(api.app, image.url, { Range: 'bytes=10-19', 'If-Range': '"other"' });
    const byDate = await download(api.app, image.url, {
      Range: 'bytes=10-19',
      'If-Range': new Date(0).toUTCString(),
    });

    expect(byEtag.status).toBe(200);
    expect(byEtag.bytes.equals(bytes)).toBe(true);
    expect(byDate.status).toBe(200);
  });

  test('when several ranges or a garbled one are asked for, then the whole image', async () => {
    const several = await download(api.app, image.url, { Range: 'bytes=0-9,100-109' });
    const garbled = await download(api.app, image.url, { Range: 'pages=1-2' });

    expect(several.status).toBe(200);
    expect(several.bytes.equals(bytes)).toBe(true);
    expect(garbled.status).toBe(200);
  });

  test('when HEAD carries a Range, then it is ignored, as RFC 9110 defines ranges for GET only', async () => {
    const response = await request(api.app).head(image.url).set('Range', 'bytes=0-9');

    expect(response.status).toBe(200);
    expect(response.headers['content-range']).toBeUndefined();
    expect(response.headers['content-length']).toBe(String(bytes.length));
  });
});

describe('file names in Content-Disposition', () => {
  test.each([
    ['quotes', 'say "cheese".png', 'inline; filename="say _cheese_.png"; filename*=UTF-8\'\'say%20%22cheese%22.png'],
    ['a path', '../../etc/passwd.png', 'inline; filename=passwd.png'],
    ['a Windows path', 'C:\\Users\\me\\cat.png', 'inline; filename=cat.png'],
    // Stored with each control character as U+FFFD, which the header carries only in filename*.
    ['control characters', 'a\r\nSet-Cookie: x=1.png', 'inline; filename="a__Set-Cookie: x=1.png"; filename*=UTF-8\'\'a%EF%BF%BD%EF%BF%BDSet-Cookie%3A%20x%3D1.png'],
    ['non-ASCII letters', 'café ☕.png', 'inline; filename="caf_ _.png"; filename*=UTF-8\'\'caf%C3%A9%20%E2%98%95.png'],
    ['only dots and spaces', '. . .', 'inline; filename=image.png'],
    ['a hidden-file name', '.htaccess', 'inline; filename=htaccess.png'],
    ['an emoji cut at the length limit', `${'a'.repeat(199)}😀.png`, `inline; filename=${'a'.repeat(199)}_.png; filename*=UTF-8''${'a'.repeat(199)}%F0%9F%98%80.png`],
    ['another type\'s extension', 'page.html', 'inline; filename=page.html.png'],
  ])('when the uploaded name has %s, then the header is safe', async (_, filename, expected) => {
    const image = await store(await makeImage('png'), filename);

    const response = await request(api.app).head(image.url);

    expect(response.headers['content-disposition']).toBe(expected);
  });
});

describe('cross-origin reads', () => {
  test('when a page on another origin reads an image, then CORS allows it and exposes the validators', async () => {
    const image = await store(await makeImage('png'));

    const response = await request(api.app).get(image.url).set('Origin', 'https://blog.example');

    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-expose-headers']).toContain('ETag');
  });

  test('when a browser sends a preflight for a range read, then it is allowed for GET and HEAD', async () => {
    const image = await store(await makeImage('png'));

    const response = await request(api.app)
      .options(image.url)
      .set('Origin', 'https://blog.example')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'range');

    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD');
    expect(response.headers['access-control-allow-headers']).toContain('Range');
  });

  test('when CORS_ORIGINS lists origins, then only those are allowed', async () => {
    const restricted = await startTestApp({ config: { corsOrigins: ['https://shop.example'] } });
    try {
      const image = onlyUploadedImage(await upload(restricted.app, [{ bytes: await makeImage('png'), filename: 'c.png' }]));

      const allowed = await request(restricted.app).get(image.url).set('Origin', 'https://shop.example');
      const refused = await request(restricted.app).get(image.url).set('Origin', 'https://evil.example');

      expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
      expect(allowed.headers.vary).toBe('Origin');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await restricted.close();
    }
  });

  test('when an image is not found, then the problem answer is readable cross-origin too', async () => {
    const response = await request(api.app).get('/image/0123456789abcdef01234567').set('Origin', 'https://a.example');

    expectProblem(response, 404, 'image-not-found');
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });
});
