import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { RESUMABLE_CHUNK_SIZE } from '../../src/uploads/resumable/resumable-uploads';
import { countChunks } from '../helpers/chunks';
import { download } from '../helpers/http';
import { makeLargePng, sha256 } from '../helpers/images';
import { useListeningTestApp, type ListeningTestApp } from '../helpers/server';
import { createRawUpload, patchHeld, patchRaw, TUS_HEADERS } from '../helpers/tus';
import { countLocks, lockAsAnInstanceGone, locksOf, uploadIdOf } from '../helpers/upload-state';
import { eventually } from '../helpers/wait';

const MIB = 1024 * 1024;
const LOCK_WAIT_SECONDS = 2;

/** Two instances of the app on one database, as behind a load balancer; each its own locker and connection. */
describe('resumable uploads locked across instances', () => {
  const databaseName = `test-${randomUUID().slice(0, 8)}`;
  const options = { databaseName, config: { resumableLockWaitSeconds: LOCK_WAIT_SECONDS } };
  const first = useListeningTestApp(options);
  const second = useListeningTestApp(options);
  const baseUrlOf = (instance: ListeningTestApp) => `http://127.0.0.1:${instance.server.port}`;
  const db = () => first.api.db;
  const chunksOf = (path: string) => countChunks(db(), 'images', new ObjectId(uploadIdOf(path)));
  const uploadStates = () => db().collection('images.uploads').countDocuments();
  const head = (instance: ListeningTestApp, path: string) => fetch(`${baseUrlOf(instance)}${path}`, { method: 'HEAD', headers: TUS_HEADERS });

  test('when a DELETE comes to one instance while a PATCH writes the upload on the other, then the other stops that PATCH and the upload is gone', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createRawUpload(baseUrlOf(first), bytes.length, 'far.png');
    const statesBefore = await uploadStates();
    const sending = patchHeld(baseUrlOf(first), path, 0, bytes, 2 * RESUMABLE_CHUNK_SIZE);
    await eventually(() => chunksOf(path), (chunks) => chunks === 2);

    const deleted = await fetch(`${baseUrlOf(second)}${path}`, { method: 'DELETE', headers: TUS_HEADERS });

    const stopped = await sending.answer;
    expect(deleted.status).toBe(204);
    expect(stopped.status).toBe(204);
    expect(stopped.headers.get('connection')).toBe('close');
    expect(stopped.headers.get('upload-offset')).toBe(String(2 * RESUMABLE_CHUNK_SIZE));
    expect(await chunksOf(path)).toBe(0);
    expect(await uploadStates()).toBe(statesBefore - 1);
    expect(await countLocks(db(), path)).toBe(0);
    expect((await head(first, path)).status).toBe(404);
  });

  test('when an instance that holds an upload no longer answers, then a PATCH elsewhere asks it to let go, waits RESUMABLE_LOCK_WAIT and is answered 423', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createRawUpload(baseUrlOf(first), bytes.length, 'stuck.png');
    await lockAsAnInstanceGone(db(), path, new Date(Date.now() + 60_000));
    const startedAt = Date.now();

    const refused = await patchRaw(baseUrlOf(second), path, 0, bytes);

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(LOCK_WAIT_SECONDS * 1000);
    expect(refused.status).toBe(423);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toMatchObject({ code: 'upload-locked' });
    expect(await locksOf(db()).findOne({ _id: uploadIdOf(path) })).toMatchObject({ holder: 'an-instance-that-died', wanted: true });
    expect(await chunksOf(path)).toBe(0);
  });

  test('when the lease of an instance that died has lapsed, then the next request takes the upload at once', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createRawUpload(baseUrlOf(first), bytes.length, 'lapsed.png');
    await lockAsAnInstanceGone(db(), path, new Date(Date.now() - 1000));

    const finished = await patchRaw(baseUrlOf(second), path, 0, bytes);

    expect(finished.status).toBe(204);
    const stored = await download(second.api.app, finished.headers.get('x-image-url') ?? '');
    expect(sha256(stored.bytes)).toBe(sha256(bytes));
    expect(await countLocks(db(), path)).toBe(0);
  });
});
