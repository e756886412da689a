import type { IncomingHttpHeaders } from 'node:http';

/** Response headers a cross-origin script may read beyond the safelisted ones. */
const EXPOSED_HEADERS = 'ETag, Content-Range, Accept-Ranges, Content-Disposition';
const ALLOWED_REQUEST_HEADERS = 'Range, If-None-Match, If-Modified-Since, If-Range, If-Match, If-Unmodified-Since';
const PREFLIGHT_MAX_AGE_SECONDS = '86400';

/** `*` for any origin, or the exact origins allowed. */
export type CorsOrigins = '*' | readonly string[];

const ANY_ORIGIN_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': EXPOSED_HEADERS,
});

/** Headers that let pages on the allowed origins read images with fetch() or a crossorigin <img>. */
export function corsReadHeaders(
  origins: CorsOrigins,
  requestHeaders: IncomingHttpHeaders,
): Readonly<Record<string, string>> {
  if (origins === '*') return ANY_ORIGIN_HEADERS;
  const origin = requestHeaders.origin;
  if (origin === undefined || !origins.includes(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

export function corsPreflightHeaders(origins: CorsOrigins, requestHeaders: IncomingHttpHeaders): Record<string, string> {
  const read = corsReadHeaders(origins, requestHeaders);
  if (read['Access-Control-Allow-Origin'] === undefined) return read;
  return {
    ...read,
    'Access-Control-Allow-Methods': 'GET, HEAD',
    'Access-Control-Allow-Headers': ALLOWED_REQUEST_HEADERS,
    'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS,
  };
}
