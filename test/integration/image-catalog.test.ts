import { ObjectId } from 'mongodb';
import request from 'supertest';
import { download, onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import { makeImage, makeLargePng, sha256 } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

interface ImageInfo {
  readonly id: string;
  readonly uploadDate: string;
}

interface Page {
  readonly images: ImageInfo[];
  readonly next: string | null;
}

describe('info, listing and delete', () => {
  let api: TestApp;

  beforeEach(async () => {
    api = await startTestApp();
  });

  afterEach(async () => {
    await api.close();
  });

  async function uploadOne(filename = 'picture.png'): Promise<UploadedImage> {
    return onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage('png', 8, 8), filename }]));
  }

  async function listPage(query: string): Promise<Page> {
    const response = await request(api.app).get(`/image${query}`);
    expect(response.status).toBe(200);
    return response.body as Page;
  }

  async function listAll(limit: number): Promise<string[]> {
    const ids: string[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page: Page = await listPage(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.images.map((image) => image.id));
      cursor = page.next;
    }
    return ids;
  }

  test('when info is asked for an image, then it tells its name, type, size, dimensions, hash, date and variants', async () => {
    const bytes = await makeImage('jpeg', 40, 30);
    const image = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'cat.jpg' }]));

    const response = await request(api.app).get(`/image/${image.id}/info`);

    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const stored = await api.db.collection<{ uploadDate: Date }>('images.files').findOne({ filename: 'cat.jpg' });
    expect(response.body).toEqual({
      id: image.id,
      filename: 'cat.jpg',
      contentType: 'image/jpeg',
      size: bytes.length,
      width: 40,
      height: 30,
      sha256: sha256(bytes),
      uploadDate: stored?.uploadDate.toISOString(),
      url: `/image/${image.id}`,
      variants: [],
      next: null,
    });
  });

  test('when info is asked for an unknown or malformed id, then 404 or 400', async () => {
    expectProblem(await request(api.app).get('/image/0123456789abcdef01234567/info'), 404, 'image-not-found');
    expectProblem(await request(api.app).get('/image/nope/info'), 400, 'invalid-id');
  });

  test('when images are listed, then they come newest first in pages that chain to the end', async () => {
    const uploaded: UploadedImage[] = [];
    for (let n = 0; n < 5; n++) uploaded.push(await uploadOne(`${n}.png`));

    const first = await listPage('?limit=2');
    const all = await listAll(2);

    expect(first.images.map((image) => image.id)).toEqual([uploaded[4]?.id, uploaded[3]?.id]);
    expect(first.next).toEqual(expect.any(String));
    expect(all).toEqual(uploaded.map((image) => image.id).reverse());
  });

  test('when nothing is stored, then the listing is empty with no next page', async () => {
    expect(await listPage('')).toEqual({ images: [], next: null });
  });

  test('when no limit is given, then a page holds 20 images', async () => {
    for (let n = 0; n < 21; n++) await uploadOne();

    const page = await listPage('');

    expect(page.images).toHaveLength(20);
    expect(page.next).not.toBeNull();
  });

  test.each(['?limit=0', '?limit=101', '?limit=ten', '?limit=1&limit=2', '?cursor=bm90LWEtY3Vyc29y', '?cursor=%%'])(
    'when the listing is asked with %s, then 400 invalid-query',
    async (query) => {
      expectProblem(await request(api.app).get(`/image${query}`), 400, 'invalid-query');
    },
  );

  test('when images are uploaded while a client pages, then no image is skipped or shown twice', async () => {
    const existing: string[] = [];
    for (let n = 0; n < 12; n++) existing.push((await uploadOne()).id);

    const seen: string[] = [];
    const uploadedMeanwhile: Promise<UploadedImage>[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      uploadedMeanwhile.push(uploadOne(), uploadOne());
      const page: Page = await listPage(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.images.map((image) => image.id));
      cursor = page.next;
    }
    await Promise.all(uploadedMeanwhile);

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(existing));
    expect(await listAll(100)).toHaveLength(existing.length + uploadedMeanwhile.length);
  });

  test('when an image is deleted, then 204, its reads answer 404 and no file or chunk is left', async () => {
    const kept = await uploadOne('kept.png');
    const bytes = await makeLargePng(600 * 1024);
    const doomed = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'doomed.png' }]));

    const response = await request(api.app).delete(`/image/${doomed.id}`);

    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expectProblem(await request(api.app).get(doomed.url), 404, 'image-not-found');
    expectProblem(await request(api.app).get(`${doomed.url}/info`), 404, 'image-not-found');
    expect(await api.db.collection('images.chunks').countDocuments({ files_id: new ObjectId(doomed.id) })).toBe(0);
    expect(await api.db.collection('images.files').countDocuments()).toBe(1);
    expect((await download(api.app, kept.url)).status).toBe(200);
  });

  test('when a cached image is deleted, then it is no longer served from memory', async () => {
    const image = await uploadOne();
    expect((await download(api.app, image.url)).status).toBe(200);
    expect((await request(api.app).get(`${image.url}/info`)).status).toBe(200);

    await request(api.app).delete(`/image/${image.id}`).expect(204);

    expectProblem(await request(api.app).get(image.url), 404, 'image-not-found');
    expectProblem(await request(api.app).get(`${image.url}/info`), 404, 'image-not-found');
  });

  test('when an unknown or malformed id is deleted, then 404 or 400 and nothing changes', async () => {
    await uploadOne();
    const before = await api.stored();

    expectProblem(await request(api.app).delete('/image/0123456789abcdef01234567'), 404, 'image-not-found');
    expectProblem(await request(api.app).delete('/image/not-an-id'), 400, 'invalid-id');
    expect(await api.stored()).toEqual(before);
  });
});
