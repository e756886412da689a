/** A worker that lived this long before it died counts as having worked: its replacement starts at once. */
export const STABLE_AFTER_MS = 30_000;
const FIRST_DELAY_MS = 500;
const LONGEST_DELAY_MS = 30_000;

/**
 * How long to wait before replacing a worker that died after `livedMs`, given the delay used
 * for the one before it. Workers that die as they start (a database away, a port taken) are
 * replaced ever more slowly instead of in a tight loop that floods the logs.
 */
export function restartDelayMs(livedMs: number, previousDelayMs: number): number {
  if (livedMs >= STABLE_AFTER_MS) return 0;
  return Math.min(LONGEST_DELAY_MS, Math.max(FIRST_DELAY_MS, previousDelayMs * 2));
}
