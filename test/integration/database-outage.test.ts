import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/database/embedded-database';
import { findFreePort } from '../../src/database/ports';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { eventually } from '../helpers/wait';

const logger = pino({ level: 'warn' });

let dataDir: string;
let port: number;
let database: EmbeddedDatabase | undefined;
let api: TestApp;

async function startDatabase(): Promise<EmbeddedDatabase> {
  return startEmbeddedDatabase({ dataDir, port, logger });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'image-api-outage-'));
  port = await findFreePort();
  database = await startDatabase();
  api = await startTestApp({ uri: database.uri, timeoutMs: 1000 });
});

afterAll(async () => {
  await api.close();
  await database?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('when the database stops, then the API answers 503 with Retry-After, and 200 again once it is back', async () => {
  const bytes = await makeImage('png');
  const image = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'kept.png' }]));

  await database?.stop();
  database = undefined;

  const read = await request(api.app).get(image.url);
  expectProblem(read, 503, 'database-unavailable');
  expect(read.headers['retry-after']).toBe('5');
  const write = await upload(api.app, [{ bytes: await makeImage('jpeg'), filename: 'lost.jpg' }]);
  expectProblem(write, 503, 'database-unavailable');
  expect(write.headers['retry-after']).toBe('5');

  database = await startDatabase();

  const back = await eventually(
    () => download(api.app, image.url),
    (response) => response.status === 200,
  );
  expect(back.status).toBe(200);
  expect(back.bytes.equals(bytes)).toBe(true);
  expect(await api.stored()).toEqual({ files: 1, chunks: 1 });
});

test('when the database stops, then /readyz answers 503 with Retry-After within its short timeout while /healthz stays 200', async () => {
  expect((await request(api.app).get('/readyz')).body).toEqual({ status: 'ready' });

  await database?.stop();
  database = undefined;

  const startedAt = Date.now();
  const notReady = await request(api.app).get('/readyz');
  expect(Date.now() - startedAt).toBeLessThan(3000);
  expect(notReady.status).toBe(503);
  expect(notReady.body).toEqual({ status: 'not-ready' });
  expect(notReady.headers['retry-after']).toBe('5');
  expect(notReady.headers['cache-control']).toBe('no-store');
  expect((await request(api.app).get('/healthz')).status).toBe(200);

  database = await startDatabase();
  const ready = await eventually(
    () => request(api.app).get('/readyz'),
    (response) => response.status === 200,
  );
  expect(ready.body).toEqual({ status: 'ready' });
});
