import sharp from 'sharp';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeLargePng } from '../helpers/images';
import { startTestApp, type TestApp } from '../helpers/test-app';

/** Larger than the hot cache's largest body, so that only the kept originals can spare a read. */
const ORIGINAL_BYTES = 2 * 1024 * 1024;

const apps: TestApp[] = [];

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

async function appWithOriginal(config: Parameters<typeof startTestApp>[0] = {}): Promise<{ api: TestApp; id: string }> {
  const api = await startTestApp(config);
  apps.push(api);
  const { id } = onlyUploadedImage(await upload(api.app, [{ bytes: await makeLargePng(ORIGINAL_BYTES), filename: 'wide.png' }]));
  return { api, id };
}

async function widthOfVariant(api: TestApp, id: string, width: number): Promise<number | undefined> {
  const { status, bytes } = await download(api.app, `/image/${id}?w=${width}&format=webp`);
  expect(status).toBe(200);
  return (await sharp(bytes).metadata()).width;
}

test('when a second size of an image is asked after a first, then its original is read from the database once', async () => {
  const { api, id } = await appWithOriginal();

  expect(await widthOfVariant(api, id, 64)).toBe(64);
  expect(await widthOfVariant(api, id, 128)).toBe(128);

  expect(api.fileReadsOf(id)).toBe(1);
  expect((await api.storedVariants()).claimed).toBe(2);
});

test('when several sizes of an image are asked at once, then its original is read from the database once', async () => {
  const { api, id } = await appWithOriginal({ config: { transformConcurrency: 4 } });

  const widths = await Promise.all([64, 128, 256, 320].map((width) => widthOfVariant(api, id, width)));

  expect(widths).toEqual([64, 128, 256, 320]);
  expect(api.fileReadsOf(id)).toBe(1);
});

test('when TRANSFORM_CACHE_BYTES is 0, then each new size reads its original from the database again', async () => {
  const { api, id } = await appWithOriginal({ config: { transformCacheBytes: 0 } });

  expect(await widthOfVariant(api, id, 64)).toBe(64);
  expect(await widthOfVariant(api, id, 128)).toBe(128);

  expect(api.fileReadsOf(id)).toBe(2);
});
