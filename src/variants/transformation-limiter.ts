import { AppError } from '../errors/app-error';

export interface TransformationLimiterOptions {
  /** Transformations that run at once. */
  readonly concurrency: number;
  /** Transformations that may wait for one of those; beyond, a request is refused. */
  readonly queueLength: number;
}

/** Runs tasks a few at a time, with a bounded queue behind them. */
export interface TransformationLimiter {
  /** Rejects at once with a 503 when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** What a refused client is told to wait: transformations take from milliseconds to seconds. */
const RETRY_AFTER_SECONDS = '1';

export function createTransformationLimiter({ concurrency, queueLength }: TransformationLimiterOptions): TransformationLimiter {
  let running = 0;
  const waiting: (() => void)[] = [];

  function release(): void {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }

  function acquire(): Promise<void> {
    if (running < concurrency) {
      running += 1;
      return Promise.resolve();
    }
    if (waiting.length >= queueLength) {
      return Promise.reject(
        new AppError('transformations-busy', `${concurrency} transformations are running and ${queueLength} waiting; try again shortly.`, {
          headers: { 'Retry-After': RETRY_AFTER_SECONDS },
        }),
      );
    }
    // The slot passes straight from the task that ends to the one that waited longest.
    return new Promise((resolve) => waiting.push(resolve));
  }

  return {
    run: async (task) => {
      await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
