import { setTimeout as pause } from 'node:timers/promises';

/** How long `eventually` lets pass between two looks. */
const POLL_INTERVAL_MS = 100;

/**
 * Polls until `check` holds, for effects that complete after the answer (cleanup after a
 * vanished client) or in another process, which no event of this one tells. It waits for the
 * condition, never for a time: the poll interval only spaces the looks.
 */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await pause(POLL_INTERVAL_MS);
  }
}
