import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until `check` holds, for effects that complete after the answer (cleanup after a vanished client). */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}
