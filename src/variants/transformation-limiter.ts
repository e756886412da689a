import { AppError } from '../core/app-error';
import { abortReason } from '../core/shared-work';

export interface TransformationLimiterOptions {
  /** Transformations that run at once. */
  readonly concurrency: number;
  /** Transformations that may wait for one of those; beyond, a request is refused. */
  readonly queueLength: number;
}

/** Runs tasks a few at a time, with a bounded queue behind them. */
export interface TransformationLimiter {
  /**
   * Rejects at once with a 503 when the queue is full. A task still waiting when `signal` aborts
   * is taken out of the queue and never started: the promise rejects with the signal's reason.
   * A task that has started runs to its end, as sharp cannot stop a pipeline halfway.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Tasks running now. */
  readonly running: number;
  /** Tasks waiting now. */
  readonly waiting: number;
}

/** What a refused client is told to wait: transformations take from milliseconds to seconds. */
const RETRY_AFTER_SECONDS = '1';

interface Waiter {
  readonly start: () => void;
}

export function createTransformationLimiter({ concurrency, queueLength }: TransformationLimiterOptions): TransformationLimiter {
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
    if (waiting.size >= queueLength) {
      return Promise.reject(
        new AppError('transformations-busy', `${concurrency} transformations are running and ${queueLength} waiting; try again shortly.`, {
          headers: { 'Retry-After': RETRY_AFTER_SECONDS },
        }),
      );
    }
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
