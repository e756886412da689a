import { createPendingWrites } from '../../src/core/pending-writes';
import { createOpenUploads } from '../../src/storage/gridfs/open-uploads';

async function isSettled(promise: Promise<void>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('pending writes', () => {
  test('when nothing is under way, then settled resolves', async () => {
    expect(await isSettled(createPendingWrites().settled())).toBe(true);
  });

  test('when a write is under way, then settled waits for its end, however often the end is called', async () => {
    const writes = createPendingWrites();
    const first = writes.begin();
    const second = writes.begin();
    const settled = writes.settled();

    first();
    first();
    expect(await isSettled(settled)).toBe(false);
    second();
    expect(await isSettled(settled)).toBe(true);
  });

  test('when the next write begins just after the last one ends, then settled waits for it too', async () => {
    const writes = createPendingWrites();
    const end = writes.begin();
    const settled = writes.settled();
    let next: (() => void) | undefined;

    void Promise.resolve()
      .then(end)
      .then(() => (next = writes.begin()));
    expect(await isSettled(settled)).toBe(false);
    next?.();
    expect(await isSettled(settled)).toBe(true);
  });

  test('when a tracked write is under way, then settled waits for it, and for its end when it fails', async () => {
    const writes = createPendingWrites();
    let fail: (error: Error) => void = () => undefined;
    const tracked = writes.track(
      () =>
        new Promise<never>((_resolve, reject) => {
          fail = reject;
        }),
    );
    const settled = writes.settled();

    expect(await isSettled(settled)).toBe(false);
    fail(new Error('broken'));
    await expect(tracked).rejects.toThrow('broken');
    expect(await isSettled(settled)).toBe(true);
  });

  test('when an open upload is released, then it is no longer open and no longer pending', async () => {
    const writes = createPendingWrites();
    const uploads = createOpenUploads(writes);
    uploads.add('a');

    expect(uploads.has('a')).toBe(true);
    expect(await isSettled(writes.settled())).toBe(false);
    uploads.release('a');
    expect(uploads.has('a')).toBe(false);
    expect(await isSettled(writes.settled())).toBe(true);
  });
});
