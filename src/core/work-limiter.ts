import { abortReason } from './shared-work';

export interface WorkLimiterOptions {
  /** Tasks that run at once. */
  readonly concurrency: number;
  /** Tasks that may wait for one of those; beyond, a task is refused with `busy()`. */
  readonly queueLength: number;
  /** What a task refused at a full queue rejects with. */
  readonly busy: () => Error;
}

/** Runs tasks a few at a time, with a bounded queue behind them. */
export interface WorkLimiter {
  /**
   * Rejects at once with `busy()` when the queue is full. A task still waiting when `signal` aborts
   * is taken out of the queue and never started: the promise rejects with the signal's reason.
   * A task that has started runs to its end, as sharp cannot stop a pipeline halfway.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Tasks running now. */
  readonly running: number;
  /** Tasks waiting now. */
  readonly waiting: number;
}

interface Waiter {
  readonly start: () => void;
}

export function createWorkLimiter({ concurrency, queueLength, busy }: WorkLimiterOptions): WorkLimiter {
  let running = 0;
  // In the order they came: a Set iterates in insertion order and drops any member at once.
  const waiting = new Set<Waiter>();

  function release(): void {
    const next = waiting.values().next();
    if (next.done) {
      running -= 1;
      return;
    }
    waiting.delete(next.value);
    next.value.start();
  }

  function wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const drop = () => {
        waiting.delete(waiter);
        if (signal) reject(abortReason(signal));
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', drop);
          resolve();
        },
      };
      signal?.addEventListener('abort', drop, { once: true });
      waiting.add(waiter);
    });
  }

  function acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (running < concurrency) {
      running += 1;
      return Promise.resolve();
    }
    if (waiting.size >= queueLength) return Promise.reject(busy());
    // The slot passes straight from the task that ends to the one that waited longest.
    return wait(signal);
  }

  return {
    run: async (task, signal) => {
      await acquire(signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
    get running() {
      return running;
    },
    get waiting() {
      return waiting.size;
    },
  };
}
