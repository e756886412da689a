import { AppError } from '../core/app-error';
import { createWorkLimiter, type WorkLimiter } from '../core/work-limiter';

/** What a refused client is told to wait: transformations take from milliseconds to seconds. */
const RETRY_AFTER_SECONDS = '1';

/** TRANSFORM_CONCURRENCY transformations at once, TRANSFORM_QUEUE waiting; beyond, 503 with Retry-After. */
export function createTransformationLimiter({ concurrency, queueLength }: { concurrency: number; queueLength: number }): WorkLimiter {
  const busy = () =>
    new AppError('transformations-busy', `${concurrency} transformations are running and ${queueLength} waiting; try again shortly.`, {
      headers: { 'Retry-After': RETRY_AFTER_SECONDS },
    });
  return createWorkLimiter({ concurrency, queueLength, busy });
}
