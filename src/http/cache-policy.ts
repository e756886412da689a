import { createHash } from 'node:crypto';
import type { Response } from 'express';

/**
 * The Cache-Control of each kind of answer, so that no cache gives one a heuristic lifetime
 * (RFC 9111, 4.2.2). README's "Cache policy" table lists where each is used.
 */
export const CACHE_POLICY = {
  /**
   * The listing and `/info`: they change with every upload and delete and belong to the key
   * that asked. `no-cache` makes every use ask again, so no page is ever stale, and the ETag
   * turns an unchanged page into a 304 without a body, which `no-store` would forbid;
   * `private` keeps them out of shared caches, with or without keys.
   */
  callersOwn: 'private, no-cache',
  /** The same for everyone until the server restarts with other settings or code: revalidated every time. */
  revalidate: 'no-cache',
  /** Answers of a moment (health, metrics, problems) or that no one should keep (a signed URL). */
  never: 'no-store',
} as const;

/** A body and its strong ETag, the same on every instance for the same bytes. */
export interface Revalidatable {
  readonly body: string;
  readonly etag: string;
}

export function revalidatable(body: string): Revalidatable {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
}

/**
 * Sends the body with its ETag and `cacheControl`, or a 304 when the request's If-None-Match
 * names the ETag: Express's `send` checks the request's freshness against the ETag set here.
 * The caller sets the Content-Type.
 */
export function sendRevalidatable(res: Response, { body, etag }: Revalidatable, cacheControl: string): void {
  res.set({ 'Cache-Control': cacheControl, ETag: etag }).send(body);
}

/** JSON that changes from one request to the next, with an ETag of this answer's bytes. */
export function sendRevalidatableJson(res: Response, value: unknown, cacheControl: string): void {
  sendRevalidatable(res.type('json'), revalidatable(JSON.stringify(value)), cacheControl);
}
