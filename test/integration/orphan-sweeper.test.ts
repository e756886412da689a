import { setTimeout as sleep } from 'node:timers/promises';
import { Binary, ObjectId } from 'mongodb';
import { createOrphanSweeper } from '../../src/images/orphan-sweeper';
import { countChunks, objectIdFrom, writeChunks } from '../helpers/chunks';
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

function sweeperOf(app: TestApp, graceSeconds: number, intervalSeconds = 300) {
  const logs = captureLogs();
  const sweeper = createOrphanSweeper({ repository: app.repository, logger: logs.logger, graceSeconds, intervalSeconds });
  return { sweeper, lines: logs.lines };
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
  const { sweeper } = sweeperOf(api, 1);
  await sleep(2500);

  const removed = await sweeper.sweep();

  expect(removed.map((orphan) => orphan.fileId)).not.toContain(upload.id);
  expect(await countChunks(api.db, BUCKET, filesId)).toBe(1);
  await api.repository.delete(upload.id);
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
