import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('health', () => {
  let api: TestApp;

  beforeEach(async () => {
    api = await startTestApp();
  });

  afterEach(async () => {
    await api.close();
  });

  test('when the process runs, then /healthz answers 200 and is never cached', async () => {
    const response = await request(api.app).get('/healthz');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  test('when the database answers, then /readyz answers 200', async () => {
    const response = await request(api.app).get('/readyz');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready' });
  });

  test('when shutdown has begun, then /readyz answers 503 while /healthz still answers 200', async () => {
    api.lifecycle.beginShutdown();

    const ready = await request(api.app).get('/readyz');

    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'shutting-down' });
    expect((await request(api.app).get('/healthz')).status).toBe(200);
  });
});
