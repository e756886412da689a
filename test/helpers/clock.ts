import type { Clock } from '../../src/core/clock';

export interface TestClock {
  readonly now: Clock;
  /** Moves the clock forward; what it decides (expiries, graces, times to live) follows at once. */
  advance(ms: number): void;
}

function clockFrom(read: Clock): TestClock {
  let aheadMs = 0;
  return {
    now: () => read() + aheadMs,
    advance: (ms) => {
      aheadMs += ms;
    },
  };
}

/** A clock that stands still until the test moves it, for logic with no database beside it. */
export function stoppedClock(startMs = Date.UTC(2025, 0, 1)): TestClock {
  return clockFrom(() => startMs);
}

/**
 * The real time, moved forward by hand. It starts in step with the database, which dates chunks
 * and files by the real time, and runs ahead of it only as far as a test moves it.
 */
export function runningClock(): TestClock {
  return clockFrom(() => Date.now());
}
