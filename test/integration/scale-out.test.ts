import request from 'supertest';
import { stoppedClock } from '../helpers/clock';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage, makeLargePng } from '../helpers/images';
import { startListeningServer, uploadThrough, type ListeningServer } from '../helpers/server-process';
import { startTestApp, uriOfNewDatabase } from '../helpers/test-app';

const CACHE_TTL_SECONDS = 2;

describe('two instances on one database', () => {
  let first: ListeningServer;
  let second: ListeningServer;

  beforeAll(async () => {
    const environment = { MONGODB_URI: uriOfNewDatabase(), CACHE_TTL: String(CACHE_TTL_SECONDS) };
    [first, second] = await Promise.all([startListeningServer(environment), startListeningServer(environment)]);
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
  });

  async function readFrom(server: ListeningServer, url: string) {
    const response = await fetch(`${server.baseUrl}${url}`);
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  test('when an image is uploaded through one instance, then the other serves it byte-exact', async () => {
    const bytes = await makeImage('png', 120, 80);

    const { url } = await uploadThrough(first.baseUrl, bytes);
    const read = await readFrom(second, url);

    expect(read.status).toBe(200);
    expect(read.bytes.equals(bytes)).toBe(true);
  });

  test('when a large image known to the other instance is deleted, then it answers 404 at once, not an error', async () => {
    const bytes = await makeLargePng(1536 * 1024);
    const { url } = await uploadThrough(first.baseUrl, bytes);
    expect((await readFrom(second, url)).bytes.equals(bytes)).toBe(true);

    expect((await fetch(`${first.baseUrl}${url}`, { method: 'DELETE' })).status).toBe(204);

    expect((await readFrom(second, url)).status).toBe(404);
  });
});

describe('two app instances on one database and one clock', () => {
  test('when an image is deleted through one instance, then the other stops serving it once CACHE_TTL has passed', async () => {
    const clock = stoppedClock(Date.now());
    const config = { cacheTtlSeconds: CACHE_TTL_SECONDS };
    const first = await startTestApp({ config, clock: clock.now });
    const second = await startTestApp({ config, clock: clock.now, databaseName: first.db.databaseName });
    try {
      const { url } = onlyUploadedImage(await upload(first.app, [{ bytes: await makeImage('png', 90, 60), filename: 'shared.png' }]));
      expect((await download(second.app, url)).status).toBe(200);
      expect((await request(first.app).delete(url)).status).toBe(204);

      clock.advance(CACHE_TTL_SECONDS * 1000);
      const withinTheTtl = await download(second.app, url);
      clock.advance(1);
      const pastTheTtl = await download(second.app, url);

      expect(withinTheTtl.status).toBe(200);
      expect(pastTheTtl.status).toBe(404);
    } finally {
      await second.disconnect();
      await first.close();
    }
  });
});
