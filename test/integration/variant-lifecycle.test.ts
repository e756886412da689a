import { setImmediate } from 'node:timers/promises';
import { ObjectId } from 'mongodb';
import type { PendingWrites } from '../../src/core/pending-writes';
import request from 'supertest';
import { systemClock } from '../../src/core/clock';
import { createVariantSweeper } from '../../src/maintenance/variant-sweeper';
import type { VariantUpload } from '../../src/storage/variant-repository';
import { countChunks, writeChunks, writeOrphans } from '../helpers/chunks';
import { countCommands } from '../helpers/commands';
import { expectMatchesContract } from '../helpers/contract';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { captureLogs } from '../helpers/logs';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

const VARIANT_BUCKET = 'images.variants';
const HOUR = 3600;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

async function uploadedWithVariants(...queries: string[]): Promise<string> {
  const { id, url } = onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage('jpeg', 300, 200), filename: 'kept.jpg' }]));
  for (const query of queries) expect((await download(api.app, `${url}?${query}`)).status).toBe(200);
  return id;
}

function writeWhole(upload: VariantUpload, bytes: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    upload.stream.end(bytes, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

/** Whether no write is under way: `settled` resolves within two turns of the event loop. */
async function settlesNow(writes: PendingWrites): Promise<boolean> {
  let settled = false;
  void writes.settled().then(() => (settled = true));
  await setImmediate();
  await setImmediate();
  return settled;
}

function sweeperOf(graceSeconds: number, app = api) {
  return createVariantSweeper({
    repository: app.variantRepository,
    logger: captureLogs().logger,
    graceSeconds,
    intervalSeconds: 300,
    clock: systemClock,
  });
}

test('when an image has variants, then /info lists them with their canonical parameters', async () => {
  const id = await uploadedWithVariants('w=128', 'w=64&format=webp');

  const response = await request(api.app).get(`/image/${id}/info`);

  expectMatchesContract('GET', '/image/{id}/info', response);
  expect((response.body as { variants: unknown[] }).variants).toEqual([
    expect.objectContaining({ params: 'w=128&format=jpeg&q=80', contentType: 'image/jpeg', width: 128, height: 85 }),
    expect.objectContaining({ params: 'w=64&format=webp&q=80', contentType: 'image/webp', width: 64, height: 43 }),
  ]);
});

test('when variants are listed, then the listing of images shows only originals', async () => {
  const id = await uploadedWithVariants('w=256');

  const listing = await request(api.app).get('/image?limit=100');

  const ids = (listing.body as { images: { id: string }[] }).images.map((image) => image.id);
  expect(ids).toContain(id);
  expect(ids.every((listed) => ObjectId.isValid(listed))).toBe(true);
  expect(ids).toHaveLength(new Set(ids).size);
});

test('when an image is deleted, then its variants go with it and are no longer served', async () => {
  const id = await uploadedWithVariants('w=128', 'w=64&format=png');
  const kept = await uploadedWithVariants('w=128');
  const before = await api.storedVariants();

  await request(api.app).delete(`/image/${id}`).expect(204);

  expect(await api.variantsOf(id)).toEqual([]);
  expect(await api.variantsOf(kept)).toHaveLength(1);
  expect(await api.storedVariants()).toEqual({ files: before.files - 2, chunks: before.chunks - 2, claimed: before.claimed - 2 });
  expectProblem(await request(api.app).get(`/image/${id}?w=128`), 404, 'image-not-found');
});

test('when an original is gone but its variants stayed, then a sweep removes them', async () => {
  const id = await uploadedWithVariants('w=128');
  // As a delete cut short, or a removal by hand, leaves them.
  await api.repository.delete(id);
  const [variant] = await api.variantsOf(id);

  const removed = await sweeperOf(HOUR).sweep();

  expect(removed).toContain(variant?.record.fileId);
  expect(await api.variantsOf(id)).toEqual([]);
});

test('when there are more leftovers than fit one batch, then one sweep removes them all with three deletions per 500 of them', async () => {
  const own = await startTestApp();
  try {
    const leftovers = await writeOrphans(own.db, VARIANT_BUCKET, 501, 2 * HOUR);
    const commands = countCommands(own.db);

    const removed = await sweeperOf(HOUR, own).sweep();

    // The claims, the files and the chunks of each batch, by id.
    expect(commands.get('delete')).toBe(2 * 3);
    expect(removed).toHaveLength(501);
    expect(await own.storedVariants()).toEqual({ files: 0, chunks: 0, claimed: 0 });
    expect(removed.sort()).toEqual(leftovers.map((id) => id.toHexString()).sort());
  } finally {
    await own.close();
  }
});

test('when two files claim one variant, then the winner stops being a pending write once claimed and the loser once abandoned', async () => {
  const own = await startTestApp();
  try {
    const variant = { originalId: new ObjectId().toHexString(), params: 'w=64&format=png', filename: 'a.png', contentType: 'image/png' };
    const facts = { sha256: 'same', width: 64, height: 48, entityTag: 'same' };
    const [winner, loser] = [own.variantRepository.openUpload(variant), own.variantRepository.openUpload(variant)];
    for (const upload of [winner, loser]) await writeWhole(upload, await makeImage('png'));

    await winner.claim(facts);
    const stored = await loser.claim(facts);
    const pendingAfterClaims = !(await settlesNow(own.writes));
    await own.variantRepository.abandon(loser.fileId);

    expect(stored.fileId).toBe(winner.fileId);
    expect(pendingAfterClaims).toBe(true);
    expect(await settlesNow(own.writes)).toBe(true);
    expect(await own.storedVariants()).toEqual({ files: 1, chunks: 1, claimed: 1 });
  } finally {
    await own.close();
  }
});

test('when a variant file was never claimed or left chunks only, then a sweep removes it after the grace and not before', async () => {
  const id = await uploadedWithVariants();
  const unclaimed = api.variantRepository.openUpload({ originalId: id, params: 'w=64&format=png', filename: 'a.png', contentType: 'image/png' });
  await writeWhole(unclaimed, await makeImage('png'));
  const loneChunks = new ObjectId();
  await writeChunks(api.db, VARIANT_BUCKET, { filesId: loneChunks, secondsAgo: [2 * HOUR] });

  const withAnHourOfGrace = await sweeperOf(HOUR).sweep();
  const withNoGrace = await sweeperOf(0).sweep();

  expect(withAnHourOfGrace).not.toContain(unclaimed.fileId);
  expect(withAnHourOfGrace).toContain(loneChunks.toHexString());
  expect(withNoGrace).toContain(unclaimed.fileId);
  expect(await countChunks(api.db, VARIANT_BUCKET, new ObjectId(unclaimed.fileId))).toBe(0);
  expect(await countChunks(api.db, VARIANT_BUCKET, loneChunks)).toBe(0);
});
