import { AppError } from '../core/app-error';
import { createWorkLimiter, type WorkLimiter } from '../core/work-limiter';

/**
 * INSPECTION_CONCURRENCY stored files read whole at once to count their frames, so that
 * memory stays within that many times MAX_FILE_SIZE; INSPECTION_QUEUE more wait their turn,
 * holding nothing but their request. Beyond, 503 with Retry-After: a multipart upload is
 * removed, a resumable one keeps its bytes for the retry of its last PATCH.
 */
export function createInspectionLimiter({ concurrency, queueLength }: { concurrency: number; queueLength: number }): WorkLimiter {
  const busy = () =>
    new AppError('inspections-busy', `${concurrency} uploads are being checked and ${queueLength} waiting; try again shortly.`, {
      headers: { 'Retry-After': '1' },
    });
  return createWorkLimiter({ concurrency, queueLength, busy });
}
