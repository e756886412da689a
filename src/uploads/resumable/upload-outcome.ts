import type { ServerResponse } from 'node:http';
import type { UploadOutcome } from '../../observability/metrics';

/** Refusals of a resumable upload that end it, as a multipart upload's refusal would. */
const ENDING_REFUSALS: ReadonlySet<string> = new Set([
  'file-too-large',
  'too-many-pixels',
  'unsupported-image-type',
  'missing-api-key',
  'invalid-api-key',
  'rate-limited',
]);

/**
 * A resumable upload is counted once, by the request that ends it: the one that finished it
 * (it names the image), refused it, or terminated it. Requests it merely resumes through
 * (an offset conflict, a busy upload, a dropped connection) are not outcomes.
 */
export function resumableOutcome(res: ServerResponse, problemCode: string | undefined): UploadOutcome | undefined {
  const method = res.req.method;
  if (method === 'DELETE') return res.statusCode === 204 ? 'aborted' : undefined;
  if (method !== 'POST' && method !== 'PATCH') return undefined;
  if (res.statusCode < 300 && res.hasHeader('X-Image-Id')) return 'stored';
  if (res.statusCode >= 500) return 'failed';
  return ENDING_REFUSALS.has(problemCode ?? '') ? 'rejected' : undefined;
}
