import request from 'supertest';
import { download, onlyUploadedImage, upload, uploadedImages } from '../helpers/http';
import { makeImage, makeLargePng, svgWithScript } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

interface DedupUploadedImage {
  readonly id: string;
  readonly duplicate: boolean;
}

describe('content-addressed storage (DEDUP=true)', () => {
  let api: TestApp;

  beforeEach(async () => {
    api = await startTestApp({ config: { dedup: true } });
  });

  afterEach(async () => {
    await api.close();
  });

  test('when the same bytes are uploaded again, then the first id is answered as a duplicate and one copy is kept', async () => {
    const bytes = await makeImage('png');
    const first = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'a.png' }]));
    const before = await api.stored();

    const again = await upload(api.app, [{ bytes, filename: 'b.png' }]);

    expect(again.status).toBe(201);
    expect(uploadedImages(again)).toEqual([{ ...first, duplicate: true }]);
    expect(await api.stored()).toEqual(before);
  });

  test('when identical uploads arrive at once, then exactly one copy remains and every answer names it', async () => {
    const bytes = await makeLargePng(700 * 1024);

    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, n) => upload(api.app, [{ bytes, filename: `copy-${n}.png` }])),
    );

    const answered = responses.map((response) => onlyUploadedImage(response) as unknown as DedupUploadedImage);
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(201));
    expect(new Set(answered.map((image) => image.id)).size).toBe(1);
    expect(answered.filter((image) => !image.duplicate)).toHaveLength(1);
    expect(await api.stored()).toEqual({ files: 1, chunks: Math.ceil(bytes.length / (255 * 1024)) });
    expect(await api.db.collection('images.digests').countDocuments()).toBe(1);
    expect((await download(api.app, `/image/${answered[0]?.id ?? ''}`)).bytes.equals(bytes)).toBe(true);
  });

  test('when one request carries the same file twice, then both entries name one stored image', async () => {
    const bytes = await makeImage('webp');

    const response = await upload(api.app, [
      { bytes, filename: 'one.webp' },
      { bytes, filename: 'two.webp' },
    ]);

    const [first, second] = uploadedImages(response) as unknown as DedupUploadedImage[];
    expect(response.status).toBe(201);
    expect(second?.id).toBe(first?.id);
    expect([first?.duplicate, second?.duplicate].sort()).toEqual([false, true]);
    expect(await api.stored()).toMatchObject({ files: 1 });
  });

  test('when a request that matched an existing image fails, then the existing image stays', async () => {
    const bytes = await makeImage('gif');
    const existing = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'kept.gif' }]));

    const failed = await upload(api.app, [
      { bytes, filename: 'again.gif' },
      { bytes: svgWithScript, filename: 'bad.png' },
    ]);

    expectProblem(failed, 415, 'unsupported-image-type');
    expect((await download(api.app, existing.url)).bytes.equals(bytes)).toBe(true);
  });

  test('when the only copy is deleted, then the same bytes uploaded later are stored anew', async () => {
    const bytes = await makeImage('jpeg');
    const first = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'a.jpg' }]));
    await request(api.app).delete(first.url).expect(204);

    const again = await upload(api.app, [{ bytes, filename: 'a.jpg' }]);

    const image = onlyUploadedImage(again) as unknown as DedupUploadedImage;
    expect(image.id).not.toBe(first.id);
    expect(image.duplicate).toBe(false);
    expect(await api.db.collection('images.digests').countDocuments()).toBe(1);
    expect((await download(api.app, `/image/${image.id}`)).bytes.equals(bytes)).toBe(true);
  });

  test('when deduplication is off, then the same bytes are stored twice under two ids', async () => {
    const plain = await startTestApp();
    try {
      const bytes = await makeImage('png');
      const first = onlyUploadedImage(await upload(plain.app, [{ bytes, filename: 'a.png' }]));
      const second = onlyUploadedImage(await upload(plain.app, [{ bytes, filename: 'a.png' }]));

      expect(second.id).not.toBe(first.id);
      expect(await plain.stored()).toMatchObject({ files: 2 });
    } finally {
      await plain.close();
    }
  });
});
