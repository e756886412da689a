import type { RequestListener } from 'node:http';
import request from 'supertest';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

const ID = '0123456789abcdef01234567';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

type Method = 'trace' | 'put' | 'patch' | 'post' | 'delete' | 'get' | 'head';

const send = (app: RequestListener, method: Method, path: string) => request(app)[method](path);

describe.each<[string, () => RequestListener]>([
  ['the app as served', () => api.app],
  ['Express alone', () => api.expressApp],
])('through %s', (_name, appOf) => {
  test.each<[Method, string, string]>([
    ['trace', `/image/${ID}`, 'GET, HEAD, DELETE, OPTIONS'],
    ['put', `/image/${ID}`, 'GET, HEAD, DELETE, OPTIONS'],
    ['patch', `/image/${ID}`, 'GET, HEAD, DELETE, OPTIONS'],
    ['post', `/image/${ID}`, 'GET, HEAD, DELETE, OPTIONS'],
    ['put', '/image/upload', 'POST, OPTIONS'],
    ['get', '/image/upload', 'POST, OPTIONS'],
    ['head', '/image/upload', 'POST, OPTIONS'],
    ['get', '/image/uploads', 'POST, OPTIONS'],
    ['get', `/image/${ID}/sign`, 'POST, OPTIONS'],
    ['delete', `/image/${ID}/info`, 'GET, HEAD'],
    ['post', '/image', 'GET, HEAD'],
    ['put', '/image/uploads', 'POST, OPTIONS'],
    ['get', `/image/uploads/${ID}`, 'HEAD, PATCH, DELETE, OPTIONS'],
    ['delete', '/healthz', 'GET, HEAD'],
    ['post', '/metrics', 'GET, HEAD'],
    ['put', '/openapi.json', 'GET, HEAD'],
    ['post', '/docs', 'GET, HEAD'],
    ['patch', '/client-settings', 'GET, HEAD'],
    ['delete', '/', 'GET, HEAD'],
  ])('when %s %s is asked, then 405 method-not-allowed with Allow: %s', async (method, path, allow) => {
    const response = await send(appOf(), method, path);

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    if (method !== 'head') {
      expectProblem(response, 405, 'method-not-allowed');
      expect(response.body).toMatchObject({ detail: expect.stringContaining(allow) as unknown });
    }
  });

  test('when a HEAD is asked of a route that only takes POST, then 405 with Allow and no body', async () => {
    const response = await request(appOf()).head(`/image/${ID}/sign`);

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST, OPTIONS');
    expect(response.text).toBeUndefined();
  });

  test('when a path is no route, then 404 route-not-found whatever the method', async () => {
    for (const method of ['get', 'put', 'trace'] as const) {
      expectProblem(await send(appOf(), method, '/no/such/route'), 404, 'route-not-found');
    }
    expectProblem(await send(appOf(), 'get', `/image/${ID}/thumbnail`), 404, 'route-not-found');
  });

  test('when a file is PUT at the upload path, then 405 and nothing is stored', async () => {
    const before = await api.stored();

    const response = await request(appOf()).put('/image/upload').attach('images', await makeImage('png'), 'a.png');

    expectProblem(response, 405, 'method-not-allowed');
    expect(await api.stored()).toEqual(before);
  });

  test('when a CORS preflight is asked, then it is answered as before, not with 405', async () => {
    const response = await request(appOf())
      .options(`/image/${ID}`)
      .set('Origin', 'https://pages.example')
      .set('Access-Control-Request-Method', 'GET');

    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD');
  });
});
