import { makeImage, makeLargePng } from '../helpers/images';
import { startListeningServer, uploadThrough, type ListeningServer } from '../helpers/server-process';
import { uriOfNewDatabase } from '../helpers/test-app';
import { eventually } from '../helpers/wait';

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

  test('when an image is deleted through one instance, then the other stops serving it within CACHE_TTL', async () => {
    const bytes = await makeImage('png', 90, 60);
    const { url } = await uploadThrough(first.baseUrl, bytes);
    expect((await readFrom(second, url)).status).toBe(200);

    const deleted = await fetch(`${first.baseUrl}${url}`, { method: 'DELETE' });
    const deletedAt = Date.now();
    expect(deleted.status).toBe(204);

    const gone = await eventually(
      () => readFrom(second, url),
      (read) => read.status === 404,
      (CACHE_TTL_SECONDS + 5) * 1000,
    );
    expect(gone.status).toBe(404);
    expect(Date.now() - deletedAt).toBeLessThan((CACHE_TTL_SECONDS + 1) * 1000);
  });

  test('when a large image known to the other instance is deleted, then it answers 404 at once, not an error', async () => {
    const bytes = await makeLargePng(1536 * 1024);
    const { url } = await uploadThrough(first.baseUrl, bytes);
    expect((await readFrom(second, url)).bytes.equals(bytes)).toBe(true);

    expect((await fetch(`${first.baseUrl}${url}`, { method: 'DELETE' })).status).toBe(204);

    expect((await readFrom(second, url)).status).toBe(404);
  });
});
