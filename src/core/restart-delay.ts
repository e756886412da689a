/** How a process of ours that died is started again. */
export interface RestartBackOff {
  /** A process that lived this long before it died counts as having worked: the next one starts at once. */
  readonly stableAfterMs: number;
  readonly firstDelayMs: number;
  readonly longestDelayMs: number;
}

/**
 * How long to wait before starting again a process that died after `livedMs`, given the delay
 * used for the one before it. Processes that die as they start (a database away, a port taken)
 * are started ever more slowly, twice as long each time up to the longest delay, instead of in
 * a tight loop that floods the logs.
 */
export function restartDelayMs(backOff: RestartBackOff, livedMs: number, previousDelayMs: number): number {
  if (livedMs >= backOff.stableAfterMs) return 0;
  return Math.min(backOff.longestDelayMs, Math.max(backOff.firstDelayMs, previousDelayMs * 2));
}
