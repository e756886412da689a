import type { RequestListener } from 'node:http';
import request from 'supertest';
import { makeLargePng } from '../helpers/images';
import { onlyUploadedImage, upload } from '../helpers/http';
import { startTestApp, type TestApp } from '../helpers/test-app';

/** Headers that depend on the moment or the connection, not on the answer. */
const VOLATILE_HEADERS = new Set(['date', 'connection', 'keep-alive', 'x-request-id']);

let api: TestApp;
let id: string;
let etag: string;

beforeAll(async () => {
  api = await startTestApp({ config: { cacheMaxItemBytes: 64 * 1024 } });
  const image = onlyUploadedImage(
    await upload(api.app, [{ bytes: await makeLargePng(300 * 1024), filename: 'both ways.png' }]),
  );
  id = image.id;
  etag = (await request(api.app).head(image.url)).headers.etag ?? '';
});

afterAll(async () => {
  await api.close();
});

async function answer(app: RequestListener, method: 'get' | 'head', path: string, headers: Record<string, string>) {
  const response = await request(app)[method](path).set(headers).buffer(true).parse((res, done) => {
    const parts: Buffer[] = [];
    res.on('data', (part: Buffer) => parts.push(part));
    res.on('end', () => {
      done(null, Buffer.concat(parts));
    });
  });
  const headerEntries = Object.entries(response.headers as Record<string, string>);
  return {
    status: response.status,
    headers: Object.fromEntries(headerEntries.filter(([name]) => !VOLATILE_HEADERS.has(name))),
    body: (response.body as Buffer).toString('base64'),
  };
}

const cases: [string, 'get' | 'head', (id: string) => string, () => Record<string, string>][] = [
  ['a whole image', 'get', (image) => `/image/${image}`, () => ({})],
  ['HEAD', 'head', (image) => `/image/${image}`, () => ({})],
  ['a range', 'get', (image) => `/image/${image}`, () => ({ Range: 'bytes=1000-300000' })],
  ['an unsatisfiable range', 'get', (image) => `/image/${image}`, () => ({ Range: 'bytes=999999999-' })],
  ['a revalidation', 'get', (image) => `/image/${image}`, () => ({ 'If-None-Match': etag })],
  ['a cross-origin read', 'get', (image) => `/image/${image}`, () => ({ Origin: 'https://a.example' })],
  ['a query string', 'get', (image) => `/image/${image}?v=2`, () => ({})],
  ['a transformation', 'get', (image) => `/image/${image}?w=64&format=webp&v=2`, () => ({})],
  ['a negotiated transformation', 'get', (image) => `/image/${image}?w=64&format=auto`, () => ({ Accept: 'image/avif' })],
  ['a refused transformation', 'get', (image) => `/image/${image}?w=65`, () => ({})],
  ['a fragment', 'get', (image) => `/image/${image}#top`, () => ({})],
  ['a percent-encoded id', 'get', (image) => `/image/${encodeURIComponent(image).replace('a', '%61')}`, () => ({})],
  ['an upper-case id', 'get', (image) => `/image/${image.toUpperCase()}`, () => ({})],
  ['a malformed id', 'get', () => '/image/not-an-id', () => ({})],
  ['a malformed escape', 'get', () => '/image/%E0%A4%A', () => ({})],
  ['an unknown id', 'get', () => '/image/0123456789abcdef01234567', () => ({})],
];

describe('the lean read path and Express', () => {
  test.each(cases)('when asked for %s, then both answer byte for byte the same', async (_, method, path, headers) => {
    const lean = await answer(api.app, method, path(id), headers());
    const viaExpress = await answer(api.expressApp, method, path(id), headers());

    expect(lean).toEqual(viaExpress);
  });
});
