import { createHash } from 'node:crypto';
import sharp from 'sharp';
import request from 'supertest';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeAnimatedGif, makeImage, makeSidewaysJpeg, pngBomb, pngClaiming } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

const SIZES = [64, 128, 200, 640];

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({
    config: { variantSizes: SIZES, presets: { square: { width: 100, height: 100, fit: 'cover', enlarge: false, format: 'png', quality: undefined } } },
  });
});

afterAll(async () => {
  await api.close();
});

async function uploaded(bytes: Buffer, filename: string): Promise<string> {
  return onlyUploadedImage(await upload(api.app, [{ bytes, filename }]).expect(201)).url;
}

/** The variants stored of the image at `url`. */
async function variantsOf(url: string): Promise<number> {
  return (await api.variantsOf(url.replace('/image/', ''))).length;
}

async function transformationsCounted(): Promise<number> {
  const metric = await api.metrics.registry.getSingleMetric('image_transformations_total')?.get();
  return (metric?.values ?? []).reduce((total, { value }) => total + value, 0);
}

describe('a transformed read', () => {
  test.each<[string, string, number, number]>([
    ['a width alone', 'w=128', 128, 96],
    ['a height alone', 'h=64', 85, 64],
    ['fit=inside (the default)', 'w=128&h=128', 128, 96],
    ['fit=cover', 'w=128&h=128&fit=cover', 128, 128],
    ['fit=contain', 'w=128&h=128&fit=contain', 128, 128],
    ['fit=outside', 'w=128&h=128&fit=outside', 171, 128],
    ['fit=fill', 'w=64&h=128&fit=fill', 64, 128],
    ['a width beyond the original', 'w=640', 400, 300],
  ])('when asked for %s (%s), then the variant has those dimensions', async (_, query, width, height) => {
    const url = await uploaded(await makeImage('jpeg', 400, 300), 'photo.jpg');

    const read = await download(api.app, `${url}?${query}`);

    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(read.bytes).metadata()).toMatchObject({ format: 'jpeg', width, height });
  });

  test.each<[string, string, string]>([
    ['jpeg', 'jpeg', 'image/jpeg'],
    ['png', 'png', 'image/png'],
    ['webp', 'webp', 'image/webp'],
    ['avif', 'heif', 'image/avif'],
    ['original', 'png', 'image/png'],
  ])('when asked for format=%s, then the variant is written in it', async (format, decodedAs, contentType) => {
    const url = await uploaded(await makeImage('png', 300, 200), 'drawing.png');

    const read = await download(api.app, `${url}?w=128&format=${format}`);

    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toBe(contentType);
    expect(read.headers.vary).toBeUndefined();
    expect(await sharp(read.bytes).metadata()).toMatchObject({ format: decodedAs, width: 128 });
  });

  test.each([
    ['a browser that reads AVIF', 'image/avif,image/webp,image/apng,*/*;q=0.8', 'image/avif'],
    ['a browser that reads WebP', 'image/webp,*/*', 'image/webp'],
    ['a client that names neither', '*/*', 'image/jpeg'],
  ])('when format=auto is asked by %s (Accept: %s), then it gets %s with Vary: Accept', async (_, accept, contentType) => {
    const url = await uploaded(await makeImage('jpeg', 300, 200), 'auto.jpg');

    const read = await download(api.app, `${url}?w=128&format=auto`, { Accept: accept });
    const revalidated = await request(api.app)
      .get(`${url}?w=128&format=auto`)
      .set({ Accept: accept, 'If-None-Match': String(read.headers.etag) });

    expect(read.headers['content-type']).toBe(contentType);
    expect(read.headers.vary).toBe('Accept');
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.vary).toBe('Accept');
  });

  test('when an image carries EXIF orientation and GPS-like metadata, then its variant is turned upright and carries none', async () => {
    const url = await uploaded(await makeSidewaysJpeg(80, 40), 'sideways.jpg');

    const read = await download(api.app, `${url}?format=png`);

    const metadata = await sharp(read.bytes).metadata();
    expect(metadata).toMatchObject({ width: 40, height: 80, space: 'srgb' });
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
  });

  test('when an animated GIF is asked for as WebP, then every frame is kept; as JPEG, the first', async () => {
    const url = await uploaded(await makeAnimatedGif(80, 60, 3), 'spinner.gif');

    const webp = await download(api.app, `${url}?w=64&format=webp`);
    const jpeg = await download(api.app, `${url}?w=64&format=jpeg`);

    expect(await sharp(webp.bytes).metadata()).toMatchObject({ format: 'webp', pages: 3, width: 64, height: 48 });
    expect(await sharp(jpeg.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
  });

  test('when a preset is named, then it is made whatever its sizes', async () => {
    const url = await uploaded(await makeImage('jpeg', 300, 200), 'preset.jpg');

    const read = await download(api.app, `${url}?preset=square`);

    expect(read.status).toBe(200);
    expect(await sharp(read.bytes).metadata()).toMatchObject({ format: 'png', width: 100, height: 100 });
  });
});

describe('a refused transformation', () => {
  test.each([
    ['w', 'w=abc'],
    ['w', 'w=65'],
    ['h', 'h=0'],
    ['fit', 'w=64&fit=stretch'],
    ['enlarge', 'w=64&enlarge=1'],
    ['format', 'format=bmp'],
    ['q', 'q=101'],
    ['preset', 'preset=hero'],
    ['w', 'w=64&w=128'],
  ])('when %s is invalid (%s), then the answer is 400 invalid-transformation naming it, and nothing is made', async (parameter, query) => {
    const url = await uploaded(await makeImage('png'), 'refused.png');

    for (const app of [api.app, api.expressApp]) {
      const response = await request(app).get(`${url}?${query}`);

      expectProblem(response, 400, 'invalid-transformation');
      expect((response.body as { detail: string }).detail).toMatch(new RegExp(`^${parameter} `));
    }
    expect(await variantsOf(url)).toBe(0);
  });

  test('when a size outside VARIANT_SIZES is asked without a signature, then the answer lists the allowed ones', async () => {
    const url = await uploaded(await makeImage('png'), 'size.png');

    const response = await request(api.app).get(`${url}?w=300`);

    expectProblem(response, 400, 'invalid-transformation');
    expect((response.body as { detail: string }).detail).toContain('64, 128, 200, 640');
  });

  test('when the image does not exist, then a transformation of it answers 404', async () => {
    expectProblem(await request(api.app).get('/image/0123456789abcdef01234567?w=64'), 404, 'image-not-found');
  });
});

describe('a stored variant', () => {
  test('when it is read again, then it is served like an original: validators, caching, 304, HEAD, ranges', async () => {
    const url = await uploaded(await makeImage('png', 300, 200), 'served.png');
    const original = await request(api.app).head(url);

    const first = await download(api.app, `${url}?w=200`);
    const head = await request(api.app).head(`${url}?w=200`);
    const notModified = await request(api.app).get(`${url}?w=200`).set('If-None-Match', String(first.headers.etag));
    const part = await download(api.app, `${url}?w=200`, { Range: 'bytes=10-19' });
    const beyond = await request(api.app).get(`${url}?w=200`).set('Range', 'bytes=99999999-');

    expect(first.headers.etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers.etag).not.toBe(original.headers.etag);
    expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(first.headers['last-modified']).toEqual(expect.any(String));
    expect(first.headers['content-disposition']).toContain('served.png');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(first.bytes.length));
    expect(head.headers.etag).toBe(first.headers.etag);
    expect(notModified.status).toBe(304);
    expect(part.status).toBe(206);
    expect(part.bytes).toEqual(first.bytes.subarray(10, 20));
    expect(part.headers['content-range']).toBe(`bytes 10-19/${first.bytes.length}`);
    expectProblem(beyond, 416, 'range-not-satisfiable');
  });

  test('when a variant is made, then its first answer, sent from memory, is exactly what was stored, with its hash', async () => {
    const url = await uploaded(await makeImage('jpeg', 400, 300), 'fresh.jpg');

    const first = await download(api.app, `${url}?w=128&format=webp`);

    expect(first.status).toBe(200);
    const [stored] = await api.variantsOf(url.replace('/image/', ''));
    if (!stored) throw new Error('no variant was stored');
    const storedBytes = Buffer.concat((await api.variantRepository.openContent(stored.record).toArray()) as Buffer[]);
    expect(first.bytes.equals(storedBytes)).toBe(true);
    expect(stored.record.sha256).toBe(createHash('sha256').update(storedBytes).digest('hex'));
  });

  test('when twenty first requests for one variant arrive at once, then it is made once and stored once', async () => {
    const url = await uploaded(await makeImage('jpeg', 400, 300), 'crowd.jpg');
    const before = await transformationsCounted();
    const variantsBefore = await api.storedVariants();

    const reads = await Promise.all(Array.from({ length: 20 }, () => download(api.app, `${url}?w=64&format=webp`)));

    expect(reads.map((read) => read.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(reads.map((read) => read.bytes.toString('base64'))).size).toBe(1);
    expect((await transformationsCounted()) - before).toBe(1);
    const after = await api.storedVariants();
    expect(after.claimed - variantsBefore.claimed).toBe(1);
    expect(after.files - variantsBefore.files).toBe(1);
  });

  test('when two instances on one database are both asked for a new variant, then one copy is kept', async () => {
    const other = await startTestApp({ config: api.config, databaseName: api.db.databaseName });
    try {
      const url = await uploaded(await makeImage('jpeg', 400, 300), 'two.jpg');
      const variantsBefore = await api.storedVariants();

      const reads = await Promise.all(
        Array.from({ length: 10 }, (_, index) => download(index % 2 === 0 ? api.app : other.app, `${url}?w=128`)),
      );

      expect(new Set(reads.map((read) => `${read.status} ${String(read.headers.etag)}`)).size).toBe(1);
      const after = await api.storedVariants();
      expect(after.claimed - variantsBefore.claimed).toBe(1);
      expect(after.files - variantsBefore.files).toBe(1);
      expect(after.chunks - variantsBefore.chunks).toBe(1);
    } finally {
      await other.disconnect();
    }
  });

  test('when a variant is asked of an image with more pixels than MAX_PIXELS, then it answers 422 and stores nothing', async () => {
    const bomb = pngBomb(20_000, 20_000);
    // Stored as another tool (or an earlier, higher MAX_PIXELS) would have: uploads refuse it.
    const stored = api.repository.openUpload({ filename: 'bomb.png', contentType: 'image/png', width: 20_000, height: 20_000 });
    await stored.write(bomb);
    const { id } = await stored.finish({ sha256: 'b'.repeat(64) });
    const variantsBefore = await api.storedVariants();

    const response = await request(api.app).get(`/image/${id}?w=64`);

    expectProblem(response, 422, 'image-not-transformable');
    expect(await api.storedVariants()).toEqual(variantsBefore);
  });

  test('when a variant is asked of an image whose header is fine but whose pixels are garbage, then it answers 422 and stores nothing', async () => {
    // Uploads judge the header only, so this is stored.
    const url = await uploaded(pngClaiming(64, 48, 2000), 'garbled.png');
    const variantsBefore = await api.storedVariants();

    const response = await request(api.app).get(`${url}?w=64`);

    expectProblem(response, 422, 'image-not-transformable');
    expect((await request(api.app).get(url)).status).toBe(200);
    expect(await api.storedVariants()).toEqual(variantsBefore);
  });
});
