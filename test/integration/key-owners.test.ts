import { ObjectId } from 'mongodb';
import request from 'supertest';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage, makeLargePng } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { useListeningTestApp } from '../helpers/server';
import { TUS_HEADERS, tusUpload, uploadMetadata } from '../helpers/tus';

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-0123456789abc';
const OPS = 'ops-admin-key-0123456789';
const SIGNING_KEY = 'signing-key-0123456789abcdef-0123456789';

const running = useListeningTestApp({
  config: {
    apiKeys: [
      { name: 'alice', key: ALICE, admin: false },
      { name: 'bob', key: BOB, admin: false },
      { name: 'ops', key: OPS, admin: true },
    ],
    dedup: true,
    signingKey: SIGNING_KEY,
  },
});

const bearer = (key: string) => `Bearer ${key}`;
const baseUrl = () => `http://127.0.0.1:${running.server.port}`;

async function uploadAs(key: string, bytes: Buffer, filename = 'photo.png') {
  const response = await upload(running.api.app, [{ bytes, filename }]).set('Authorization', bearer(key));
  expect(response.status).toBe(201);
  return onlyUploadedImage(response) as ReturnType<typeof onlyUploadedImage> & { duplicate: boolean };
}

async function listedIds(key: string, query = ''): Promise<string[]> {
  const response = await request(running.api.app).get(`/image${query}`).set('Authorization', bearer(key));
  expect(response.status).toBe(200);
  return (response.body as { images: { id: string }[] }).images.map((image) => image.id);
}

const info = (key: string, id: string) => request(running.api.app).get(`/image/${id}/info`).set('Authorization', bearer(key));
const sign = (key: string, id: string) => request(running.api.app).post(`/image/${id}/sign`).set('Authorization', bearer(key)).send({ params: 'w=64' });
const remove = (key: string, id: string) => request(running.api.app).delete(`/image/${id}`).set('Authorization', bearer(key));

async function ownerInDatabase(id: string): Promise<unknown> {
  const file = await running.api.db.collection('images.files').findOne({ _id: new ObjectId(id) });
  return (file?.metadata as { owner?: string } | undefined)?.owner;
}

async function createTusUpload(key: string, length: number): Promise<string> {
  const response = await fetch(`${baseUrl()}/image/uploads`, {
    method: 'POST',
    headers: { ...TUS_HEADERS, Authorization: bearer(key), 'Upload-Length': String(length), 'Upload-Metadata': uploadMetadata({ filename: 'tus.png' }) },
  });
  expect(response.status).toBe(201);
  return response.headers.get('location') ?? '';
}

function tusRequest(key: string, path: string, method: 'HEAD' | 'DELETE' | 'PATCH', body?: Buffer): Promise<Response> {
  const patchHeaders = body ? { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' } : {};
  return fetch(`${baseUrl()}${path}`, { method, headers: { ...TUS_HEADERS, Authorization: bearer(key), ...patchHeaders }, ...(body ? { body } : {}) });
}

/** A HEAD's answer has no body to tell its code. */
async function expectUploadNotFound(response: Response, method: string): Promise<void> {
  expect(response.status).toBe(404);
  if (method !== 'HEAD') expect(await response.json()).toMatchObject({ code: 'upload-not-found' });
}

describe('images owned by the key that uploaded them', () => {
  test("when alice uploads an image, then it is recorded as hers, and bob can neither delete, sign, describe nor list it", async () => {
    const bytes = await makeImage('png');
    const image = await uploadAs(ALICE, bytes, 'alice.png');

    expectProblem(await remove(BOB, image.id), 404, 'image-not-found');
    expectProblem(await sign(BOB, image.id), 404, 'image-not-found');
    expectProblem(await info(BOB, image.id), 404, 'image-not-found');
    expect(await listedIds(BOB)).not.toContain(image.id);

    expect(await ownerInDatabase(image.id)).toBe('alice');
    expect((await download(running.api.app, image.url)).bytes.equals(bytes)).toBe(true);
  });

  test('when bob asks about an image of alice\'s, then the answer is the one for an id that does not exist', async () => {
    const image = await uploadAs(ALICE, await makeImage('png'));
    const missing = new ObjectId().toHexString();

    const foreign = await info(BOB, image.id);
    const absent = await info(BOB, missing);

    const withoutId = (body: unknown) => ({ ...(body as object), detail: '', instance: '' });
    expect(withoutId(foreign.body)).toEqual(withoutId(absent.body));
    expect(foreign.body).toMatchObject({ detail: `There is no image with id ${image.id}.` });
  });

  test('when alice manages her own image, then she describes, signs, lists and deletes it', async () => {
    const image = await uploadAs(ALICE, await makeImage('jpeg'), 'mine.jpg');

    expect((await info(ALICE, image.id)).body).toMatchObject({ id: image.id, filename: 'mine.jpg' });
    expect((await sign(ALICE, image.id)).status).toBe(200);
    expect(await listedIds(ALICE)).toContain(image.id);
    expect((await remove(ALICE, image.id)).status).toBe(204);
    expectProblem(await request(running.api.app).get(image.url), 404, 'image-not-found');
  });

  test('when each key pages through the listing, then it sees exactly its own images, newest first, and the admin sees all', async () => {
    const alices = [await uploadAs(ALICE, await makeImage('png', 11, 11)), await uploadAs(ALICE, await makeImage('png', 12, 12))];
    const bobs = [await uploadAs(BOB, await makeImage('png', 13, 13)), await uploadAs(BOB, await makeImage('png', 14, 14)), await uploadAs(BOB, await makeImage('png', 15, 15))];

    const firstPage = await request(running.api.app).get('/image?limit=2').set('Authorization', bearer(BOB));
    const next = (firstPage.body as { next: string }).next;
    const secondPage = await listedIds(BOB, `?limit=2&cursor=${encodeURIComponent(next)}`);
    const bobsListing = [...(firstPage.body as { images: { id: string }[] }).images.map((item) => item.id), ...secondPage];

    expect(bobsListing).toEqual(bobs.map((item) => item.id).reverse());
    const alicesListing = await listedIds(ALICE);
    expect(alicesListing.slice(0, 2)).toEqual(alices.map((item) => item.id).reverse());
    expect(alicesListing).not.toEqual(expect.arrayContaining([bobs[0]?.id]));
    expect(await listedIds(OPS, '?limit=100')).toEqual(expect.arrayContaining([...alices, ...bobs].map((item) => item.id)));
  });

  test('when the admin key acts on images of other keys, then it may describe, sign and delete them', async () => {
    const image = await uploadAs(BOB, await makeImage('webp'));

    expect((await info(OPS, image.id)).status).toBe(200);
    expect((await sign(OPS, image.id)).status).toBe(200);
    expect((await remove(OPS, image.id)).status).toBe(204);
    expect(await running.api.db.collection('images.files').countDocuments({ _id: new ObjectId(image.id) })).toBe(0);
  });
});

describe('resumable uploads owned by the key that created them', () => {
  test('when bob sends HEAD, PATCH or DELETE for alice\'s upload, then each is 404 and her upload is untouched', async () => {
    const bytes = await makeImage('png');
    const path = await createTusUpload(ALICE, bytes.length);

    await expectUploadNotFound(await tusRequest(BOB, path, 'HEAD'), 'HEAD');
    await expectUploadNotFound(await tusRequest(BOB, path, 'PATCH', bytes), 'PATCH');
    await expectUploadNotFound(await tusRequest(BOB, path, 'DELETE'), 'DELETE');

    const head = await tusRequest(ALICE, path, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0');
    const state = await running.api.db.collection('images.uploads').findOne({ _id: new ObjectId(path.split('/').at(-1)) });
    expect(state).toMatchObject({ owner: 'alice', offset: 0 });
  });

  test('when alice finishes her upload, then the image is hers: bob cannot describe it, she can, and the admin can end an upload of hers', async () => {
    const bytes = await makeLargePng(300 * 1024);
    const { imageId } = await tusUpload(baseUrl(), bytes, { chunkSize: 256 * 1024, headers: { Authorization: bearer(ALICE) } });
    const other = await createTusUpload(ALICE, 100);

    expect(await ownerInDatabase(imageId ?? '')).toBe('alice');
    expectProblem(await info(BOB, imageId ?? ''), 404, 'image-not-found');
    expect((await info(ALICE, imageId ?? '')).status).toBe(200);
    expect((await tusRequest(OPS, other, 'HEAD')).status).toBe(200);
    expect((await tusRequest(OPS, other, 'DELETE')).status).toBe(204);
  });
});

describe('deduplication within each key', () => {
  test('when alice and bob upload the same bytes, then each gets an image of their own, and bob deleting his leaves hers readable', async () => {
    const bytes = await makeImage('png', 33, 21);
    const alices = await uploadAs(ALICE, bytes, 'alice.png');

    const bobs = await uploadAs(BOB, bytes, 'bob.png');
    const alicesAgain = await uploadAs(ALICE, bytes, 'again.png');

    expect(bobs.id).not.toBe(alices.id);
    expect(bobs).toMatchObject({ filename: 'bob.png', duplicate: false });
    expect(alicesAgain).toMatchObject({ id: alices.id, filename: 'alice.png', duplicate: true });
    expect((await remove(BOB, bobs.id)).status).toBe(204);
    expect((await download(running.api.app, alices.url)).bytes.equals(bytes)).toBe(true);
    expect((await info(ALICE, alices.id)).status).toBe(200);
  });

  test('when bob sends by tus the bytes alice uploaded, then he gets an image of his own', async () => {
    const bytes = await makeLargePng(280 * 1024);
    const alices = await uploadAs(ALICE, bytes);

    const { imageId } = await tusUpload(baseUrl(), bytes, { headers: { Authorization: bearer(BOB) } });

    expect(imageId).not.toBe(alices.id);
    expect(await ownerInDatabase(imageId ?? '')).toBe('bob');
    expect((await remove(BOB, imageId ?? '')).status).toBe(204);
    expect((await download(running.api.app, alices.url)).bytes.equals(bytes)).toBe(true);
  });
});
