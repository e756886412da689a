import { shareWork } from '../../src/core/shared-work';

/** Work that ends when told, recording whether it was told that nobody waits. */
function controlledWork() {
  let finish: (value: string) => void = () => undefined;
  const seen: { signal?: AbortSignal } = {};
  const work = (signal: AbortSignal) => {
    seen.signal = signal;
    return new Promise<string>((resolve) => {
      finish = resolve;
    });
  };
  return { work, seen, finish: (value: string) => finish(value) };
}

describe('shareWork', () => {
  test('when one of two waiters leaves, then it is answered with its reason at once and the work goes on for the other', async () => {
    const { work, seen, finish } = controlledWork();
    const shared = shareWork(work);
    const first = new AbortController();
    const firstWait = shared.join(first.signal);
    const secondWait = shared.join(new AbortController().signal);

    first.abort(new Error('left'));
    await expect(firstWait).rejects.toThrow('left');
    expect(seen.signal?.aborted).toBe(false);
    expect(shared.abandoned).toBe(false);

    finish('made');
    await expect(secondWait).resolves.toBe('made');
  });

  test('when every waiter leaves, then the work is told nobody waits and is marked abandoned, and it still ends', async () => {
    const { work, seen, finish } = controlledWork();
    const shared = shareWork(work);
    const waiters = [new AbortController(), new AbortController()];
    const waits = waiters.map((waiter) => shared.join(waiter.signal).catch((error: unknown) => error));

    for (const waiter of waiters) waiter.abort(new Error('left'));
    expect(await Promise.all(waits)).toEqual([new Error('left'), new Error('left')]);
    expect(seen.signal?.aborted).toBe(true);
    expect(shared.abandoned).toBe(true);

    finish('made anyway');
    await expect(shared.ended).resolves.toBeUndefined();
  });

  test('when the work fails, then every waiter gets its error and `ended` still resolves', async () => {
    const shared = shareWork(() => Promise.reject(new Error('broken')));

    await expect(shared.join(new AbortController().signal)).rejects.toThrow('broken');
    await expect(shared.ended).resolves.toBeUndefined();
  });
});
