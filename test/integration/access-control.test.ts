import request from 'supertest';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEYS = ['first-key-0123456789', 'second-key-abcdefghij'];
const CHALLENGE = 'Bearer realm="image-api"';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { apiKeys: namedKeys(...KEYS) } });
});

afterAll(async () => {
  await api.close();
});

async function uploadPng(authorization?: string) {
  const test = upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]);
  return authorization === undefined ? test : test.set('Authorization', authorization);
}

describe('access control with API_KEYS set', () => {
  test('when an upload has no Authorization header, then 401 missing-api-key with a Bearer challenge and nothing is stored', async () => {
    const before = await api.stored();

    const response = await uploadPng();

    expectProblem(response, 401, 'missing-api-key');
    expect(response.headers['www-authenticate']).toBe(CHALLENGE);
    expect(response.headers.connection).toBe('close');
    expect(await api.stored()).toEqual(before);
  });

  test.each([
    ['another scheme', `Basic ${Buffer.from(`user:${KEYS[0] ?? ''}`).toString('base64')}`],
    ['the bare key', KEYS[0] ?? ''],
    ['a token with a space in it', `Bearer ${KEYS[0] ?? ''} extra`],
  ])('when the Authorization header is %s, then 401 missing-api-key and nothing is stored', async (_, authorization) => {
    const before = await api.stored();

    const response = await uploadPng(authorization);

    expectProblem(response, 401, 'missing-api-key');
    expect(response.headers['www-authenticate']).toBe(CHALLENGE);
    expect(await api.stored()).toEqual(before);
  });

  test('when the key is wrong, then 403 invalid-api-key naming the RFC 6750 error, and nothing is stored', async () => {
    const before = await api.stored();

    const response = await uploadPng('Bearer wrong-key-0123456789');

    expectProblem(response, 403, 'invalid-api-key');
    expect(response.headers['www-authenticate']).toBe(`${CHALLENGE}, error="invalid_token"`);
    expect(response.headers.connection).toBe('close');
    expect(JSON.stringify(response.body)).not.toContain('wrong-key-0123456789');
    expect(await api.stored()).toEqual(before);
  });

  test.each([0, 1])('when the key is configured key %p, then 201 and the image is stored', async (index) => {
    const before = await api.stored();

    const response = await uploadPng(`Bearer ${KEYS[index] ?? ''}`);

    expect(response.status).toBe(201);
    const image = onlyUploadedImage(response);
    expect((await api.stored()).files).toBe(before.files + 1);
    expect((await download(api.app, image.url)).status).toBe(200);
  });

  test('when a refused upload is large, then the answer still arrives and nothing of it is stored', async () => {
    const before = await api.stored();
    const bytes = Buffer.concat([await makeImage('png'), Buffer.alloc(4 * 1024 * 1024)]);

    const response = await upload(api.app, [{ bytes, filename: 'big.png' }]).set('Authorization', 'Bearer wrong-key-0123456789');

    expectProblem(response, 403, 'invalid-api-key');
    expect(await api.stored()).toEqual(before);
  });

  test('when keys are set, then reads stay public on both paths: GET and HEAD need no key', async () => {
    const bytes = await makeImage('jpeg');
    const uploaded = await upload(api.app, [{ bytes, filename: 'public.jpg' }]).set('Authorization', `Bearer ${KEYS[1] ?? ''}`);
    const { url } = onlyUploadedImage(uploaded);

    const lean = await download(api.app, url);
    const viaExpress = await download(api.expressApp, url);
    const head = await request(api.app).head(url);

    expect(lean.status).toBe(200);
    expect(lean.bytes.equals(bytes)).toBe(true);
    expect(viaExpress.status).toBe(200);
    expect(viaExpress.bytes.equals(bytes)).toBe(true);
    expect(head.status).toBe(200);
  });

  test.each(['/image', '/image/0123456789abcdef01234567/info'])('when %s is asked for without a key, then 401 missing-api-key: it answers only for the caller\'s images', async (path) => {
    expectProblem(await request(api.app).get(path), 401, 'missing-api-key');
    expectProblem(await request(api.app).get(path).set('Authorization', 'Bearer wrong-key-0123456789'), 403, 'invalid-api-key');
  });

  test('when a delete comes without a key or with a wrong one, then 401 or 403 and the image stays; with its key, 204', async () => {
    const bytes = await makeImage('png');
    const uploaded = await upload(api.app, [{ bytes, filename: 'kept.png' }]).set('Authorization', `Bearer ${KEYS[0] ?? ''}`);
    const { url } = onlyUploadedImage(uploaded);

    expectProblem(await request(api.app).delete(url), 401, 'missing-api-key');
    expectProblem(await request(api.app).delete(url).set('Authorization', 'Bearer wrong-key-0123456789'), 403, 'invalid-api-key');
    expect((await download(api.app, url)).bytes.equals(bytes)).toBe(true);
    expect((await request(api.app).get(`${url}/info`).set('Authorization', `Bearer ${KEYS[0] ?? ''}`)).status).toBe(200);

    await request(api.app).delete(url).set('Authorization', `Bearer ${KEYS[0] ?? ''}`).expect(204);

    expectProblem(await request(api.app).get(url), 404, 'image-not-found');
  });
});
