import request from 'supertest';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { captureLogs } from '../helpers/logs';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'request-log-key-0123456789';

describe('request ids and request logs', () => {
  const logs = captureLogs();
  let api: TestApp;
  let imageUrl: string;

  beforeAll(async () => {
    api = await startTestApp({ config: { apiKeys: namedKeys(KEY) }, logger: logs.logger });
    const uploaded = await upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]).set('Authorization', `Bearer ${KEY}`);
    imageUrl = onlyUploadedImage(uploaded).url;
  });

  afterAll(async () => {
    await api.close();
  });

  function requestLines(id: string) {
    return logs.lines.filter((entry) => (entry.req as { id?: unknown } | undefined)?.id === id && entry.msg === 'request completed');
  }

  test.each([
    ['the lean read path', () => imageUrl, 'image-read-1', 200, '/image/{id}'],
    ['Express', () => `${imageUrl}/info`, 'info-read-1', 200, '/image/{id}/info'],
    ['an unknown route', () => '/nowhere?x=1', 'lost-1', 404, 'unmatched'],
  ])('when a request through %s carries X-Request-Id, then the answer returns it and one line logs the request', async (_, url, id, status, route) => {
    // The key: an image's info answers only the key that uploaded it.
    const response = await request(api.app).get(url()).set('X-Request-Id', id).set('Authorization', `Bearer ${KEY}`);

    expect(response.status).toBe(status);
    expect(response.headers['x-request-id']).toBe(id);
    const lines = requestLines(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      req: { id, method: 'GET', url: url() },
      res: { statusCode: status },
      route,
      responseTime: expect.any(Number) as unknown,
      bytes: expect.any(Number) as unknown,
    });
    expect(lines[0]?.bytes).toBeGreaterThan(Number(response.headers['content-length']));
  });

  test.each([
    ['none', undefined],
    ['one that looks like a log line', 'evil {"level":60}'],
    ['one too long', 'x'.repeat(200)],
  ])('when the request has %s as its id, then a fresh UUID is made and returned', async (_, given) => {
    const pending = request(api.app).get(imageUrl);
    const response = await (given === undefined ? pending : pending.set('X-Request-Id', given));

    const id = String(response.headers['x-request-id']);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(requestLines(id)).toHaveLength(1);
  });

  test('when an upload carries an API key, then its log line names the route and never the key', async () => {
    const response = await upload(api.app, [{ bytes: await makeImage('jpeg'), filename: 'b.jpg' }])
      .set('Authorization', `Bearer ${KEY}`)
      .set('X-Request-Id', 'upload-with-key');

    expect(response.status).toBe(201);
    expect(requestLines('upload-with-key')[0]).toMatchObject({ route: '/image/upload', res: { statusCode: 201 } });
    expect(logs.output()).not.toContain(KEY);
  });
});
