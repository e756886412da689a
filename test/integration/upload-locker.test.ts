import type { Lock, Locker } from '@tus/utils';
import { systemClock } from '../../src/core/clock';
import { createLockRepository, type LockRepository, type LockState } from '../../src/storage/lock-repository';
import { createUploadLocker } from '../../src/uploads/resumable/upload-locker';
import { locksOf } from '../helpers/upload-state';
import { startTestApp, type TestApp } from '../helpers/test-app';

/** The real repository, with each holder's look held back until the test lets its answer through. */
function withLooksHeld(repository: LockRepository): { repository: LockRepository; nextLook: () => Promise<() => void> } {
  const waiting: ((letThrough: () => void) => void)[] = [];
  return {
    repository: {
      ...repository,
      read: async (ids) => {
        const answer = await repository.read(ids);
        const watcher = waiting.shift();
        if (!watcher) return answer;
        return new Promise<LockState[]>((resolve) => watcher(() => resolve(answer)));
      },
    },
    nextLook: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** A lock taken as @tus/server takes one; `asked` resolves once its holder is asked to let go. */
async function take(locker: Locker, id: string): Promise<{ lock: Lock; asked: Promise<void> }> {
  const lock = locker.newLock(id);
  let ask: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => (ask = resolve));
  await lock.lock(new AbortController().signal, ask);
  return { lock, asked };
}

/** Whether `promise` has settled once everything already under way has run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('the upload locker', () => {
  let api: TestApp;
  beforeAll(async () => {
    api = await startTestApp();
  });
  afterAll(async () => {
    await api.close();
  });

  test('when a lock changes hands on one instance while that instance looks at it, then the new holder is not asked to let go', async () => {
    const { repository, nextLook } = withLooksHeld(createLockRepository(api.db, 'images'));
    const locker = createUploadLocker(repository, { waitMs: 2000, clock: systemClock });
    const first = await take(locker, 'turnover');
    const look = nextLook();
    const letThrough = await look;

    await first.lock.unlock();
    const next = await take(locker, 'turnover');
    letThrough();
    const followingLook = await nextLook();
    followingLook();

    expect(await hasSettled(next.asked)).toBe(false);
    await next.lock.unlock();
  });

  test('when a request on another instance wants a lock, then its holder is asked to let go at its next look', async () => {
    const holding = createUploadLocker(createLockRepository(api.db, 'images'), { waitMs: 2000, clock: systemClock });
    const wanting = createUploadLocker(createLockRepository(api.db, 'images'), { waitMs: 2000, clock: systemClock });
    const held = await take(holding, 'wanted');

    const waiter = take(wanting, 'wanted');
    await held.asked;
    await held.lock.unlock();

    const taken = await waiter;
    expect(await locksOf(api.db).findOne({ _id: 'wanted' })).not.toHaveProperty('wanted');
    await taken.lock.unlock();
  });

  test('when a lock whose lease lapsed is taken by another instance, then its old holder is told at its next look, to stop writing', async () => {
    const stalled = createUploadLocker(createLockRepository(api.db, 'images'), { waitMs: 2000, clock: systemClock });
    const other = createUploadLocker(createLockRepository(api.db, 'images'), { waitMs: 2000, clock: systemClock });
    const old = await take(stalled, 'lapsed');
    await locksOf(api.db).updateOne({ _id: 'lapsed' }, { $set: { until: new Date(Date.now() - 1000) } });

    const taken = await take(other, 'lapsed');
    await old.asked;
    await old.lock.unlock();

    expect(await locksOf(api.db).countDocuments({ _id: 'lapsed' })).toBe(1);
    expect(await hasSettled(taken.asked)).toBe(false);
    await taken.lock.unlock();
    expect(await locksOf(api.db).countDocuments({ _id: 'lapsed' })).toBe(0);
  });

  test('when a lock is held past a third of its lease, then the holder renews it for another lease from then', async () => {
    let now = Date.now();
    const { repository, nextLook } = withLooksHeld(createLockRepository(api.db, 'images'));
    const locker = createUploadLocker(repository, { waitMs: 2000, clock: () => now });
    const held = await take(locker, 'renewed');
    const takenUntil = (await locksOf(api.db).findOne({ _id: 'renewed' }))?.until;

    now += 10_000;
    (await nextLook())();
    (await nextLook())();

    expect(takenUntil?.getTime()).toBe(now - 10_000 + 30_000);
    expect((await locksOf(api.db).findOne({ _id: 'renewed' }))?.until.getTime()).toBe(now + 30_000);
    await held.lock.unlock();
  });
});
