import type { IncomingHttpHeaders } from 'node:http';
import fresh from 'fresh';
import parseRange from 'range-parser';
import type { ByteRange } from '../storage/gridfs/chunk-stream';
import type { Validators } from './delivery-headers';

export type ReadPlan =
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
 * What to answer a GET or HEAD for a file of `size` bytes, per RFC 9110: conditionals first,
 * then a single byte range, for GET only (14.2). Several ranges, or a Range that does not
 * parse, get the whole file.
 */
export function planRead(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  size: number,
  validators: Validators,
): ReadPlan {
  if (conditionalsMatch(headers, validators)) return { kind: 'not-modified' };
  if (method !== 'GET' || headers.range === undefined || !ifRangeMatches(headers['if-range'], validators)) {
    return { kind: 'full' };
  }

  const ranges = parseRange(size, headers.range, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1 || !ranges[0]) return { kind: 'full' };
  return { kind: 'partial', range: { start: ranges[0].start, end: ranges[0].end } };
}
