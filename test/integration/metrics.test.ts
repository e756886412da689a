import request from 'supertest';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage, svgWithScript } from '../helpers/images';
import { startTestApp, type TestApp } from '../helpers/test-app';

/** The value of one series in Prometheus text format, 0 when it is not there yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}{`) && wanted.every((label) => candidate.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('/metrics', () => {
  let api: TestApp;

  beforeEach(async () => {
    api = await startTestApp();
  });

  afterEach(async () => {
    await api.close();
  });

  async function scrape(): Promise<string> {
    const response = await request(api.app).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text;
  }

  test('when an upload is stored and another refused, then the upload counters move by outcome and reason', async () => {
    await upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]).expect(201);
    await upload(api.app, [{ bytes: svgWithScript, filename: 'b.svg' }]).expect(415);

    const text = await scrape();

    expect(sample(text, 'image_uploads_total', { outcome: 'stored' })).toBe(1);
    expect(sample(text, 'image_uploads_total', { outcome: 'rejected', reason: 'unsupported-image-type' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/image/upload', status: '201' })).toBe(1);
    expect(sample(text, 'http_received_bytes_total', { route: '/image/upload' })).toBeGreaterThan(0);
  });

  test('when an image is read twice, then the second read counts as a cache hit', async () => {
    const image = onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]));
    const before = await scrape();

    await download(api.app, image.url);
    await download(api.app, image.url);

    const after = await scrape();
    const hits = (text: string) => sample(text, 'image_cache_lookups_total', { part: 'body', result: 'hit' });
    expect(hits(after) - hits(before)).toBe(1);
    expect(sample(after, 'http_request_duration_seconds_count', { route: '/image/{id}', status: '200' })).toBe(2);
    expect(sample(after, 'http_sent_bytes_total', { route: '/image/{id}' })).toBeGreaterThan(0);
  });

  test('when requests reach the database, then command durations and process metrics are reported', async () => {
    await request(api.app).get('/image/0123456789abcdef01234567').expect(404);

    const text = await scrape();

    expect(sample(text, 'mongodb_command_duration_seconds_count', { command: 'find', outcome: 'succeeded' })).toBeGreaterThan(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  test('when clients make up paths, then the route label stays one of the documented routes', async () => {
    await request(api.app).get('/a/b/c');
    await request(api.app).get('/d/e/f');

    const text = await scrape();

    expect(sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBe(2);
    expect(text).not.toContain('/a/b/c');
  });
});
