import type { RequestListener } from 'node:http';
import request, { type Response } from 'supertest';
import { onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const ALICE = 'alice-cache-key-0123456789';
const BOB = 'bob-cache-key-0123456789ab';
const SIGNING_KEY = 'cache-policy-signing-key-0123456789abcdef';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { apiKeys: namedKeys(ALICE, BOB), signingKey: SIGNING_KEY } });
});

afterAll(async () => {
  await api.close();
});

const as = (key: string, test: request.Test) => test.set('Authorization', `Bearer ${key}`);

async function store(key = ALICE): Promise<UploadedImage> {
  return onlyUploadedImage(await as(key, upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }])));
}

/** A 200 with the policy and a strong ETag, then a 304 for that ETag with the same policy and no body. */
async function expectRevalidated(send: () => request.Test, cacheControl: string): Promise<Response> {
  const first = await send();
  expect(first.status).toBe(200);
  expect(first.headers['cache-control']).toBe(cacheControl);
  expect(first.headers.etag).toMatch(/^"[\w-]+"$/);

  const again = await send().set('If-None-Match', String(first.headers.etag));

  expect(again.status).toBe(304);
  expect(again.text).toBe('');
  expect(again.headers.etag).toBe(first.headers.etag);
  expect(again.headers['cache-control']).toBe(cacheControl);
  return first;
}

describe.each<[string, () => RequestListener]>([
  ['the app as served', () => api.app],
  ['Express alone', () => api.expressApp],
])('through %s', (_name, appOf) => {
  test('when the listing is asked, then private, no-cache with an ETag of the page, and 304 while it is the same', async () => {
    await store();
    await expectRevalidated(() => as(ALICE, request(appOf()).get('/image')), 'private, no-cache');
  });

  test('when an image is uploaded or deleted, then the listing revalidated with the old ETag is sent again', async () => {
    const listing = () => as(ALICE, request(appOf()).get('/image?limit=100'));
    const before = String((await listing()).headers.etag);

    const image = await store();
    const afterUpload = await listing().set('If-None-Match', before);
    await as(ALICE, request(api.app).delete(image.url)).expect(204);
    const afterDelete = await listing().set('If-None-Match', String(afterUpload.headers.etag));

    expect(afterUpload.status).toBe(200);
    expect(afterUpload.headers.etag).not.toBe(before);
    expect(afterDelete.status).toBe(200);
    expect(afterDelete.headers.etag).toBe(before);
  });

  test("when another key revalidates with a key's ETag, then it gets its own listing, not a 304", async () => {
    await store(ALICE);
    const alices = await as(ALICE, request(appOf()).get('/image'));

    const bobs = await as(BOB, request(appOf()).get('/image')).set('If-None-Match', String(alices.headers.etag));

    expect(bobs.status).toBe(200);
    expect(bobs.headers.etag).not.toBe(alices.headers.etag);
  });

  test("when an image's info is asked, then private, no-cache with an ETag, which changes once a variant is stored", async () => {
    const image = await store();
    const info = () => as(ALICE, request(appOf()).get(`${image.url}/info`));
    const first = await expectRevalidated(info, 'private, no-cache');

    await request(api.app).get(`${image.url}?w=64`).expect(200);
    const afterVariant = await info().set('If-None-Match', String(first.headers.etag));

    expect(afterVariant.status).toBe(200);
    expect((afterVariant.body as { variants: unknown[] }).variants).toHaveLength(1);
  });

  test.each(['/openapi.json', '/docs', '/client-settings'])('when %s is asked, then no-cache with an ETag, and 304 on revalidation', async (path) => {
    await expectRevalidated(() => request(appOf()).get(path), 'no-cache');
  });

  test.each(['/healthz', '/readyz', '/metrics'])('when %s is asked, then no-store', async (path) => {
    const response = await request(appOf()).get(path);

    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  test('when an upload or a signing is answered, then no-store', async () => {
    const uploaded = await as(ALICE, upload(appOf(), [{ bytes: await makeImage('jpeg'), filename: 'b.jpg' }]));
    const signed = await as(ALICE, request(appOf()).post(`${onlyUploadedImage(uploaded).url}/sign`)).send({ params: 'w=100' });

    expect(uploaded.status).toBe(201);
    expect(uploaded.headers['cache-control']).toBe('no-store');
    expect(signed.status).toBe(200);
    expect(signed.headers['cache-control']).toBe('no-store');
  });

  test('when a problem is answered, then no-store: a 404 or 405 is never kept by a cache', async () => {
    const missing = await request(appOf()).get('/image/0123456789abcdef01234567');
    const wrongMethod = await request(appOf()).put('/image/0123456789abcdef01234567');
    const noKey = await request(appOf()).get('/image');

    expectProblem(missing, 404, 'image-not-found');
    expectProblem(wrongMethod, 405, 'method-not-allowed');
    expectProblem(noKey, 401, 'missing-api-key');
    for (const response of [missing, wrongMethod, noKey]) expect(response.headers['cache-control']).toBe('no-store');
  });

  test('when an image is read, then its caching is unchanged: public, a year, immutable', async () => {
    const image = await store();

    const response = await request(appOf()).get(image.url);

    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });
});
