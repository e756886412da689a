import type { IncomingHttpHeaders } from 'node:http';
import fresh from 'fresh';
import parseRange from 'range-parser';
import type { ByteRange } from '../storage/gridfs/chunk-stream';
import type { Validators } from './delivery-headers';

/** The conditional request headers of RFC 9110, 13.1, as a service that decides on them is handed them. */
export interface Conditions {
  readonly 'if-match'?: string | undefined;
  readonly 'if-unmodified-since'?: string | undefined;
  readonly 'if-none-match'?: string | undefined;
}

/** The conditions of a request's headers, and nothing else of it. */
export function conditionsOf(headers: IncomingHttpHeaders): Conditions {
  return {
    'if-match': headers['if-match'],
    'if-unmodified-since': headers['if-unmodified-since'],
    'if-none-match': headers['if-none-match'],
  };
}

/** The precondition that did not hold, as its header is named. */
export type FailedCondition = 'If-Match' | 'If-Unmodified-Since' | 'If-None-Match';

export type ReadPlan =
  | { readonly kind: 'precondition-failed'; readonly failed: FailedCondition }
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly range: ByteRange }
  | { readonly kind: 'unsatisfiable' };

/** If-Range names the representation the client holds a part of: an ETag (strong match) or a date. */
function ifRangeMatches(ifRange: string | string[] | undefined, validators: Validators): boolean {
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  if (ifRange.includes('"')) return ifRange.trim() === validators.etag;
  // A date counts only as an exact match (RFC 9110, 13.1.5).
  return Date.parse(ifRange) === Date.parse(validators.lastModified);
}

/** The entity tags of an If-Match or If-None-Match list, weak ones with their `W/`. */
function entityTagsOf(field: string): string[] {
  return field.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

/** `*` matches any current representation, and only an existing image is ever compared. */
function isAnyTag(field: string): boolean {
  return field.trim() === '*';
}

/** If-Match compares strongly (RFC 9110, 13.1.1): a weak tag never matches, not even ours. */
function ifMatchHolds(field: string, etag: string): boolean {
  return isAnyTag(field) || entityTagsOf(field).includes(etag);
}

/** If-None-Match compares weakly (13.1.2): `W/"x"` names the same as `"x"`. */
function ifNoneMatchMatches(field: string, etag: string): boolean {
  return isAnyTag(field) || entityTagsOf(field).some((tag) => tag.replace(/^W\//, '') === etag);
}

/** A date that does not parse is ignored (13.1.4): the condition holds. */
function unmodifiedSince(field: string, lastModified: string): boolean {
  const since = Date.parse(field);
  return Number.isNaN(since) || Date.parse(lastModified) <= since;
}

/**
 * Steps 1 and 2 of RFC 9110, 13.2.2, for any method: If-Match, or else If-Unmodified-Since.
 * Undefined when the method may be performed; else the header that forbids it (412).
 */
export function failedPrecondition(conditions: Conditions, validators: Validators): FailedCondition | undefined {
  const ifMatch = conditions['if-match'];
  if (ifMatch !== undefined) return ifMatchHolds(ifMatch, validators.etag) ? undefined : 'If-Match';
  const ifUnmodifiedSince = conditions['if-unmodified-since'];
  if (ifUnmodifiedSince === undefined || unmodifiedSince(ifUnmodifiedSince, validators.lastModified)) return undefined;
  return 'If-Unmodified-Since';
}

/**
 * The same for a method that changes the image (DELETE), with step 3: an If-None-Match that
 * matches forbids it too, answered 412 where a read would get its 304.
 */
export function failedWriteCondition(conditions: Conditions, validators: Validators): FailedCondition | undefined {
  const failed = failedPrecondition(conditions, validators);
  if (failed !== undefined) return failed;
  const ifNoneMatch = conditions['if-none-match'];
  return ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, validators.etag) ? 'If-None-Match' : undefined;
}

/** Whether the request names any precondition a write must evaluate. */
export function isConditional(conditions: Conditions): boolean {
  return conditions['if-match'] !== undefined || conditions['if-unmodified-since'] !== undefined || conditions['if-none-match'] !== undefined;
}

/**
 * `fresh` answers "send the whole body" to any request with Cache-Control: no-cache, but an
 * origin server must still evaluate the conditionals (RFC 9110, 13.2.1): a proxy revalidating
 * on behalf of such a client should get its 304.
 */
function conditionalsMatch(headers: IncomingHttpHeaders, validators: Validators): boolean {
  // What browsers and caches send back nearly always: our own ETag, as it was given.
  if (headers['if-none-match'] === validators.etag) return true;
  const conditionals = { 'if-none-match': headers['if-none-match'], 'if-modified-since': headers['if-modified-since'] };
  if (conditionals['if-none-match'] === undefined && conditionals['if-modified-since'] === undefined) return false;
  return fresh(conditionals, { etag: validators.etag, 'last-modified': validators.lastModified });
}

/**
 * What to answer a GET or HEAD for a file of `size` bytes, in the order of RFC 9110, 13.2.2:
 * If-Match or If-Unmodified-Since (412), then If-None-Match or If-Modified-Since (304), then a
 * single byte range, for GET only (14.2). Several ranges, or a Range that does not parse, get
 * the whole file.
 */
export function planRead(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  size: number,
  validators: Validators,
): ReadPlan {
  const failed = failedPrecondition(headers, validators);
  if (failed !== undefined) return { kind: 'precondition-failed', failed };
  if (conditionalsMatch(headers, validators)) return { kind: 'not-modified' };
  if (method !== 'GET' || headers.range === undefined || !ifRangeMatches(headers['if-range'], validators)) {
    return { kind: 'full' };
  }

  const ranges = parseRange(size, headers.range, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1 || !ranges[0]) return { kind: 'full' };
  return { kind: 'partial', range: { start: ranges[0].start, end: ranges[0].end } };
}
