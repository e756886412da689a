import type { IncomingHttpHeaders } from 'node:http';
import fresh from 'fresh';
import parseRange from 'range-parser';
import type { ByteRange } from './gridfs-chunk-stream';
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
  const since = Date.parse(ifRange);
  return !Number.isNaN(since) && Date.parse(validators.lastModified) <= since;
}

/**
 * What to answer a GET or HEAD for a file of `size` bytes, per RFC 9110: conditionals first,
 * then a single byte range. Several ranges, or a Range that does not parse, get the whole file.
 */
export function planRead(headers: IncomingHttpHeaders, size: number, validators: Validators): ReadPlan {
  const hasConditional = headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined;
  if (hasConditional && fresh(headers, { etag: validators.etag, 'last-modified': validators.lastModified })) {
    return { kind: 'not-modified' };
  }
  if (headers.range === undefined || !ifRangeMatches(headers['if-range'], validators)) return { kind: 'full' };

  const ranges = parseRange(size, headers.range, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1 || !ranges[0]) return { kind: 'full' };
  return { kind: 'partial', range: { start: ranges[0].start, end: ranges[0].end } };
}
