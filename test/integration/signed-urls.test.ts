import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import request from 'supertest';
import { signUrl } from '../../src/delivery/read-url-signature';
import { expectMatchesContract } from '../helpers/contract';
import { runningClock } from '../helpers/clock';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const SIGNING_KEY = 'signing-key-0123456789abcdef-0123456789';
const API_KEY = 'api-key-for-signing-0123456789';

let api: TestApp;
/** The app's clock: URLs here expire by it. */
const clock = runningClock();

beforeAll(async () => {
  api = await startTestApp({ config: { signingKey: SIGNING_KEY, apiKeys: namedKeys(API_KEY), variantSizes: [64] }, clock: clock.now });
});

afterAll(async () => {
  await api.close();
});

async function uploadedId(app = api.app): Promise<string> {
  const response = await upload(app, [{ bytes: await makeImage('jpeg', 400, 300), filename: 'signed.jpg' }]).set('Authorization', `Bearer ${API_KEY}`);
  return onlyUploadedImage(response).id;
}

const nowSeconds = () => Math.floor(clock.now() / 1000);

describe('signed read URLs', () => {
  test('when a URL asks a size outside VARIANT_SIZES with a valid signature, then the variant is made', async () => {
    const id = await uploadedId();

    const read = await download(api.app, signUrl(SIGNING_KEY, `/image/${id}`, 'w=300&format=webp', nowSeconds() + 60));

    expect(read.status).toBe(200);
    expect(await sharp(read.bytes).metadata()).toMatchObject({ format: 'webp', width: 300 });
  });

  test('when a signed URL is tampered with, then it answers 403 invalid-signature and nothing is made', async () => {
    const id = await uploadedId();
    const url = signUrl(SIGNING_KEY, `/image/${id}`, 'w=300');

    const otherSignature = url.replace(/sig=(.)/, (_, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`);
    for (const tampered of [url.replace('w=300', 'w=301'), `${url}&h=300`, otherSignature, `${url}&sig=again`]) {
      expectProblem(await request(api.app).get(tampered), 403, 'invalid-signature');
    }
    expect(await api.variantsOf(id)).toEqual([]);
  });

  test('when a signed URL has expired, then it answers 403 invalid-signature; unknown parameters added to it do not matter', async () => {
    const id = await uploadedId();

    const expired = await request(api.app).get(signUrl(SIGNING_KEY, `/image/${id}`, 'w=300', nowSeconds() - 1));
    const withCacheBuster = await request(api.app).get(`${signUrl(SIGNING_KEY, `/image/${id}`, 'w=300')}&v=2`);

    expectProblem(expired, 403, 'invalid-signature');
    expect(expired.body).toMatchObject({ detail: expect.stringContaining('expired') as unknown });
    expect(withCacheBuster.status).toBe(200);
  });

  test('when a signed URL that was served expires, then the same URL is refused: its signature is checked on every read', async () => {
    const id = await uploadedId();
    const expiresAt = nowSeconds() + 1;
    const url = signUrl(SIGNING_KEY, `/image/${id}`, 'w=300', expiresAt);
    expect((await request(api.app).get(url)).status).toBe(200);

    clock.advance(2000);

    for (const app of [api.app, api.expressApp]) expectProblem(await request(app).get(url), 403, 'invalid-signature');
  });

  test('when a signed URL expires in two minutes, then its answers (original, variant, 304, on both paths) may be cached two minutes at most', async () => {
    const id = await uploadedId();
    const expiresAt = nowSeconds() + 120;
    const urls = [signUrl(SIGNING_KEY, `/image/${id}`, '', expiresAt), signUrl(SIGNING_KEY, `/image/${id}`, 'w=300', expiresAt)];

    for (const app of [api.app, api.expressApp]) {
      for (const url of urls) {
        const read = await request(app).get(url);
        const revalidated = await request(app).get(url).set('If-None-Match', String(read.headers.etag));

        expect([read.status, revalidated.status]).toEqual([200, 304]);
        for (const answer of [read, revalidated]) {
          const cacheControl = String(answer.headers['cache-control']);
          expect(cacheControl).toMatch(/^public, max-age=\d+, must-revalidate$/);
          const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
          expect(maxAge).toBeLessThanOrEqual(expiresAt - nowSeconds() + 1);
          expect(maxAge).toBeGreaterThanOrEqual(110);
        }
      }
    }
  });

  test('when a signed URL never expires, then it is cached like any image, for a year', async () => {
    const id = await uploadedId();

    const read = await request(api.app).get(signUrl(SIGNING_KEY, `/image/${id}`, 'w=300'));

    expect(read.status).toBe(200);
    expect(read.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  test('when POST /image/:id/sign gets a body that is not JSON, then 415 not-json and nothing is signed', async () => {
    const id = await uploadedId();

    const response = await request(api.app)
      .post(`/image/${id}/sign`)
      .set('Authorization', `Bearer ${API_KEY}`)
      .set('Content-Type', 'text/plain')
      .send('{"params": "w=300", "expiresIn": 60}');

    expectProblem(response, 415, 'not-json');
    expect(response.body).not.toHaveProperty('url');
    expectMatchesContract('POST', '/image/{id}/sign', response);
  });

  test('when POST /image/:id/sign gets a body over 4 KiB, then 413 body-too-large before it is read', async () => {
    const id = await uploadedId();

    const response = await request(api.app)
      .post(`/image/${id}/sign`)
      .set('Authorization', `Bearer ${API_KEY}`)
      .send({ params: `w=300&pad=${'x'.repeat(5000)}` });

    expectProblem(response, 413, 'body-too-large');
    expect(response.headers.connection).toBe('close');
    expectMatchesContract('POST', '/image/{id}/sign', response);
  });

  test('when POST /image/:id/sign gets no body or broken JSON, then it signs the original, or answers 400', async () => {
    const id = await uploadedId();
    const sign = () => request(api.app).post(`/image/${id}/sign`).set('Authorization', `Bearer ${API_KEY}`);

    const empty = await sign();
    const broken = await sign().set('Content-Type', 'application/json').send('{"params": ');

    expect(empty.status).toBe(200);
    expectProblem(broken, 400, 'malformed-request');
  });

  test('when a signed URL asks more than MAX_VARIANT_PIXELS, then it answers 400 naming the size', async () => {
    const id = await uploadedId();

    const response = await request(api.app).get(signUrl(SIGNING_KEY, `/image/${id}`, 'w=10000&h=10000'));

    expectProblem(response, 400, 'invalid-transformation');
  });

  test('when POST /image/:id/sign is called with the API key, then its URL works; without the key, 401', async () => {
    const id = await uploadedId();

    const signed = await request(api.app)
      .post(`/image/${id}/sign`)
      .set('Authorization', `Bearer ${API_KEY}`)
      .send({ params: 'w=200&h=200&fit=cover', expiresIn: 600 });
    const unauthorised = await request(api.app).post(`/image/${id}/sign`).send({ params: 'w=200' });
    const unknown = await request(api.app)
      .post('/image/0123456789abcdef01234567/sign')
      .set('Authorization', `Bearer ${API_KEY}`)
      .send({ params: 'w=200' });

    expect(signed.status).toBe(200);
    const { url, expiresAt } = signed.body as { url: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThan(nowSeconds() + 590);
    const read = await download(api.app, url);
    expect(await sharp(read.bytes).metadata()).toMatchObject({ width: 200, height: 200 });
    expectProblem(unauthorised, 401, 'missing-api-key');
    expectProblem(unknown, 404, 'image-not-found');
  });

  test('when npm run sign is given an id and parameters, then it prints a URL the service accepts', async () => {
    const id = await uploadedId();
    const root = path.resolve(__dirname, '..', '..');

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(root, 'src', 'sign-url.ts'), id, 'w=320&format=png', '60'],
      { cwd: root, env: { ...process.env, SIGNING_KEY } },
    );

    const read = await download(api.app, stdout.trim());
    expect(read.status).toBe(200);
    expect(await sharp(read.bytes).metadata()).toMatchObject({ format: 'png', width: 320 });
  });
});

describe('REQUIRE_SIGNED_URLS', () => {
  let strict: TestApp;

  beforeAll(async () => {
    strict = await startTestApp({ config: { signingKey: SIGNING_KEY, requireSignedUrls: true } });
  });

  afterAll(async () => {
    await strict.close();
  });

  test('when it is on, then an original or a variant needs a signed URL, from both read paths', async () => {
    const id = await uploadedId(strict.app);

    for (const app of [strict.app, strict.expressApp]) {
      expectProblem(await request(app).get(`/image/${id}`), 403, 'signature-required');
      expect((await request(app).head(`/image/${id}?v=2`)).status).toBe(403);
      expectProblem(await request(app).get(`/image/${id}?w=64`), 403, 'signature-required');
      expect((await request(app).get(signUrl(SIGNING_KEY, `/image/${id}`, ''))).status).toBe(200);
      expect((await request(app).get(signUrl(SIGNING_KEY, `/image/${id}`, 'w=64'))).status).toBe(200);
    }
  });
});

describe('the OpenAPI document on signing', () => {
  test('when a URL is signed or a signature refused, then the answers match the document', async () => {
    const id = await uploadedId();

    const signed = await request(api.app).post(`/image/${id}/sign`).set('Authorization', `Bearer ${API_KEY}`).send({ params: 'w=300' });
    const refused = await request(api.app).get(`/image/${id}?w=300&sig=wrong`);

    expectMatchesContract('POST', '/image/{id}/sign', signed);
    expectMatchesContract('GET', '/image/{id}', refused);
  });
});
