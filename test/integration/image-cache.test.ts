import request from 'supertest';
import { makeLargePng } from '../helpers/images';
import { download, onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp, type TestConfig } from '../helpers/test-app';

const KIB = 1024;

async function storeAndWarm(api: TestApp, sizes: readonly number[]): Promise<{ image: UploadedImage; bytes: Buffer }[]> {
  const stored = [];
  for (const size of sizes) {
    const bytes = await makeLargePng(size);
    const image = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'cached.png' }]));
    expect((await download(api.app, image.url)).bytes.equals(bytes)).toBe(true);
    stored.push({ image, bytes });
  }
  return stored;
}

async function withApp(config: Partial<TestConfig>, run: (api: TestApp) => Promise<void>): Promise<void> {
  const api = await startTestApp({ config });
  try {
    await run(api);
  } finally {
    await api.close();
  }
}

test('when an image has been read once, then it is served byte-exact, 304s included, without the database', async () => {
  await withApp({}, async (api) => {
    const [{ image, bytes }] = (await storeAndWarm(api, [200 * KIB])) as [{ image: UploadedImage; bytes: Buffer }];
    const etag = (await request(api.app).head(image.url)).headers.etag ?? '';

    await api.disconnect();

    const full = await download(api.app, image.url);
    const part = await download(api.app, image.url, { Range: 'bytes=100-199' });
    const revalidated = await request(api.app).get(image.url).set('If-None-Match', etag);
    expect(full.status).toBe(200);
    expect(full.bytes.equals(bytes)).toBe(true);
    expect(part.status).toBe(206);
    expect(part.bytes.equals(bytes.subarray(100, 200))).toBe(true);
    expect(revalidated.status).toBe(304);
  });
});

test('when the cache is full, then the least recently used image leaves it first', async () => {
  await withApp({ cacheMaxBytes: 500 * KIB, cacheMaxItemBytes: 300 * KIB }, async (api) => {
    const [oldest, middle, newest] = await storeAndWarm(api, [200 * KIB, 200 * KIB, 200 * KIB]);

    await api.disconnect();

    expectProblem(await request(api.app).get(oldest?.image.url ?? ''), 503, 'database-unavailable');
    expect((await download(api.app, middle?.image.url ?? '')).bytes.equals(middle?.bytes ?? Buffer.alloc(0))).toBe(true);
    expect((await download(api.app, newest?.image.url ?? '')).bytes.equals(newest?.bytes ?? Buffer.alloc(0))).toBe(true);
  });
});

test('when a body is over CACHE_MAX_ITEM_BYTES, then it is streamed every time and never kept', async () => {
  await withApp({ cacheMaxItemBytes: 100 * KIB }, async (api) => {
    const [{ image }] = (await storeAndWarm(api, [300 * KIB])) as [{ image: UploadedImage; bytes: Buffer }];

    await api.disconnect();

    expect((await request(api.app).head(image.url)).status).toBe(200);
    expectProblem(await request(api.app).get(image.url), 503, 'database-unavailable');
  });
});

test('when CACHE_MAX_BYTES is 0, then every read goes to the database', async () => {
  await withApp({ cacheMaxBytes: 0 }, async (api) => {
    const [{ image }] = (await storeAndWarm(api, [50 * KIB])) as [{ image: UploadedImage; bytes: Buffer }];

    await api.disconnect();

    expectProblem(await request(api.app).get(image.url), 503, 'database-unavailable');
  });
});

test('when a variant has been read once, then it is served byte-exact, 304s included, without the database', async () => {
  await withApp({}, async (api) => {
    const image = onlyUploadedImage(await upload(api.app, [{ bytes: await makeLargePng(50 * KIB), filename: 'cached.png' }]));
    const url = `${image.url}?w=64&format=webp`;
    const first = await download(api.app, url);

    await api.disconnect();

    const again = await download(api.app, url);
    const revalidated = await request(api.app).get(url).set('If-None-Match', String(first.headers.etag));
    expect(again.status).toBe(200);
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(revalidated.status).toBe(304);
  });
});
