import { Binary, ObjectId, type Db } from 'mongodb';
import { systemClock, type Clock } from '../../src/core/clock';
import type { ImageRepository } from '../../src/storage/image-repository';
import { createOrphanSweeper, type OrphanSweeperOptions } from '../../src/maintenance/orphan-sweeper';
import { countChunks, objectIdFrom, writeChunks, writeOrphans } from '../helpers/chunks';
import { runningClock } from '../helpers/clock';
import { countCommands } from '../helpers/commands';
import { download } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { captureLogs, LEVEL } from '../helpers/logs';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { eventually } from '../helpers/wait';

const BUCKET = 'images';
const HOUR = 3600;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

function sweeperOf(
  app: TestApp,
  graceSeconds: number,
  intervalSeconds = 300,
  repository: OrphanSweeperOptions['repository'] = app.repository,
  clock: Clock = systemClock,
) {
  const logs = captureLogs();
  const sweeper = createOrphanSweeper({ repository, logger: logs.logger, graceSeconds, intervalSeconds, clock });
  return { sweeper, lines: logs.lines };
}

async function chunksLeft(db: Db, ids: readonly ObjectId[]): Promise<number> {
  return db.collection(`${BUCKET}.chunks`).countDocuments({ files_id: { $in: [...ids] } });
}

test('when chunks without a file document were all written before the grace, then a sweep removes them and logs the file id and chunk count', async () => {
  const orphan = new ObjectId();
  await writeChunks(api.db, BUCKET, { filesId: orphan, secondsAgo: [2 * HOUR, 2 * HOUR, HOUR + 60] });
  const { sweeper, lines } = sweeperOf(api, HOUR);

  const removed = await sweeper.sweep();

  expect(removed).toContainEqual({ fileId: orphan.toHexString(), chunks: 3 });
  expect(await countChunks(api.db, BUCKET, orphan)).toBe(0);
  expect(lines).toContainEqual(expect.objectContaining({ level: LEVEL.info, fileId: orphan.toHexString(), chunks: 3 }));
});

test('when an upload without a file document wrote its last chunk within the grace, then a sweep keeps it however old its first chunk is', async () => {
  const slowUpload = new ObjectId();
  await writeChunks(api.db, BUCKET, { filesId: slowUpload, secondsAgo: [2 * HOUR, HOUR, 5] });
  const { sweeper } = sweeperOf(api, HOUR);

  const removed = await sweeper.sweep();

  expect(removed.map((orphan) => orphan.fileId)).not.toContain(slowUpload.toHexString());
  expect(await countChunks(api.db, BUCKET, slowUpload)).toBe(3);
});

test('when a stored image has chunks older than the grace, then a sweep keeps it and it still downloads', async () => {
  const bytes = await makeImage('png');
  const fileId = new ObjectId();
  await api.db.collection(`${BUCKET}.chunks`).insertOne({ _id: objectIdFrom(2 * HOUR), files_id: fileId, n: 0, data: new Binary(bytes) });
  await api.db.collection(`${BUCKET}.files`).insertOne({
    _id: fileId,
    length: bytes.length,
    chunkSize: 255 * 1024,
    uploadDate: new Date(Date.now() - 2 * HOUR * 1000),
    filename: 'old.png',
    metadata: { contentType: 'image/png' },
  });
  const { sweeper } = sweeperOf(api, HOUR);

  await sweeper.sweep();

  expect(await countChunks(api.db, BUCKET, fileId)).toBe(1);
  const read = await download(api.app, `/image/${fileId.toHexString()}`);
  expect(read.status).toBe(200);
  expect(read.bytes.equals(bytes)).toBe(true);
});

test('when this process is still writing an upload whose last chunk is older than the grace, then a sweep keeps it', async () => {
  const upload = api.repository.openUpload({ filename: 'slow.png', contentType: 'image/png', width: 1, height: 1 });
  await upload.write(Buffer.alloc(255 * 1024, 1));
  const filesId = new ObjectId(upload.id);
  expect(await countChunks(api.db, BUCKET, filesId)).toBe(1);
  const clock = runningClock();
  const { sweeper } = sweeperOf(api, HOUR, 300, api.repository, clock.now);
  clock.advance(2 * HOUR * 1000);

  const removed = await sweeper.sweep();

  expect(removed.map((orphan) => orphan.fileId)).not.toContain(upload.id);
  expect(await countChunks(api.db, BUCKET, filesId)).toBe(1);
  await api.repository.abandon(upload.id);
  expect(await countChunks(api.db, BUCKET, filesId)).toBe(0);
});

test('when a sweep is asked for while one runs, then both get the same sweep', async () => {
  const { sweeper } = sweeperOf(api, HOUR);

  const first = sweeper.sweep();
  const second = sweeper.sweep();

  expect(second).toBe(first);
  await first;
});

test('when the database is unreachable, then each sweep logs a warning, the process carries on, and the next sweep tries again', async () => {
  const cutOff = await startTestApp();
  await cutOff.disconnect();
  const { sweeper, lines } = sweeperOf(cutOff, HOUR, 1);

  const running = sweeper.start();
  const warnings = await eventually(
    () => Promise.resolve(lines.filter((line) => line.level === LEVEL.warn)),
    (found) => found.length >= 2,
    20_000,
  );
  await running.stop();
  await cutOff.close();

  expect(warnings.length).toBeGreaterThanOrEqual(2);
  expect(warnings[0]?.msg).toMatch(/^orphan sweep failed/);
});

test('when there are more orphans than fit one batch, then one sweep removes them all with a fixed number of queries per 500 of them', async () => {
  const own = await startTestApp();
  try {
    const orphans = await writeOrphans(own.db, BUCKET, 1001, 2 * HOUR);
    const { sweeper } = sweeperOf(own, HOUR);
    const commands = countCommands(own.db);

    const removed = await sweeper.sweep();

    const sent = (name: string) => commands.get(name) ?? 0;
    // Per sweep: the listing, which ids resumable uploads own, which have expired, and dropping
    // the state of finished ones past their expiry. Per 500 ids: their file documents, their
    // recent chunks, and the removal of their upload states, their lapsed locks and their chunks.
    expect({ aggregate: sent('aggregate'), find: sent('find'), distinct: sent('distinct'), delete: sent('delete') }).toEqual({
      aggregate: 1,
      find: 2 + 3,
      distinct: 3,
      delete: 1 + 3 * 3,
    });
    expect(removed).toHaveLength(1001);
    expect(await chunksLeft(own.db, orphans)).toBe(0);
  } finally {
    await own.close();
  }
});

test('when the sweeper is stopped while it removes a batch, then it removes no further batch and stop resolves', async () => {
  const own = await startTestApp();
  try {
    const orphans = await writeOrphans(own.db, BUCKET, 501, 2 * HOUR);
    let deleteStarted: () => void = () => undefined;
    const firstDelete = new Promise<undefined>((resolve) => {
      deleteStarted = () => resolve(undefined);
    });
    const repository: Pick<ImageRepository, 'findOrphans' | 'deleteOrphans'> = {
      findOrphans: (olderThan, now) => own.repository.findOrphans(olderThan, now),
      deleteOrphans: (ids) => {
        deleteStarted();
        return own.repository.deleteOrphans(ids);
      },
    };
    const { sweeper } = sweeperOf(own, HOUR, 300, repository);

    const running = sweeper.start();
    await firstDelete;
    // Runs before the delete's answer can arrive: callbacks of I/O wait for pending promise jobs.
    await running.stop();

    expect(await chunksLeft(own.db, orphans)).toBe(1);
  } finally {
    await own.close();
  }
});

test('when an upload writes to a file after a sweep took it for an orphan, then the sweep removes it and warns that the grace is too short', async () => {
  const lateUpload = new ObjectId();
  await writeChunks(api.db, BUCKET, { filesId: lateUpload, secondsAgo: [2 * HOUR, 2 * HOUR] });
  const repository: Pick<ImageRepository, 'findOrphans' | 'deleteOrphans'> = {
    findOrphans: async (olderThan, now) => {
      const found = await api.repository.findOrphans(olderThan, now);
      await writeChunks(api.db, BUCKET, { filesId: lateUpload, secondsAgo: [0], firstN: 2 });
      return found;
    },
    deleteOrphans: (ids) => api.repository.deleteOrphans(ids),
  };
  const { sweeper, lines } = sweeperOf(api, HOUR, 300, repository);

  const removed = await sweeper.sweep();

  expect(removed).toContainEqual({ fileId: lateUpload.toHexString(), chunks: 2 });
  expect(await countChunks(api.db, BUCKET, lateUpload)).toBe(0);
  expect(lines.filter((line) => line.level === LEVEL.warn).map((line) => line.msg)).toContainEqual(
    expect.stringMatching(/ORPHAN_GRACE/),
  );
});
