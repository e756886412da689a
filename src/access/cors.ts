import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';

/** Response headers a cross-origin script may read beyond the safelisted ones. */
const EXPOSED_HEADERS = 'ETag, Content-Range, Accept-Ranges, Content-Disposition';
const READ_METHODS = ['GET', 'HEAD'];
const READ_REQUEST_HEADERS = ['Range', 'If-None-Match', 'If-Modified-Since', 'If-Range', 'If-Match', 'If-Unmodified-Since'];
const PREFLIGHT_MAX_AGE_SECONDS = '86400';

/** `*` for any origin, or the exact origins allowed. */
export type CorsOrigins = '*' | readonly string[];

/** The exact origins whose pages may write with a key (CORS_UPLOAD_ORIGINS); never `*`. */
export type UploadOrigins = readonly string[];

/** What a page may send to a route that writes, and read of its answers. */
export interface WriteRoute {
  readonly methods: readonly string[];
  /** Beyond the safelisted ones: Authorization always. */
  readonly requestHeaders: readonly string[];
  /** Beyond the safelisted ones; every route that takes a key answers 401 and 429 with these. */
  readonly exposedHeaders: readonly string[];
}

/** What every route that takes a key may answer a page needs to read: why a key was refused, and when to retry. */
export const KEY_ANSWER_HEADERS = ['WWW-Authenticate', 'Retry-After'] as const;

/** The routes of writes and who may use them from a browser. */
export interface CorsWrites {
  readonly origins: UploadOrigins;
  readonly route: WriteRoute;
}

type CorsHeaders = Readonly<Record<string, string>>;

/** Every answer whose CORS headers depend on the request's origin says so, for caches. */
const VARY_ORIGIN: CorsHeaders = Object.freeze({ Vary: 'Origin' });

const ANY_ORIGIN_HEADERS: CorsHeaders = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': EXPOSED_HEADERS,
});

/** Headers that let pages on the allowed origins read images with fetch() or a crossorigin <img>. */
export function corsReadHeaders(origins: CorsOrigins, requestHeaders: IncomingHttpHeaders): CorsHeaders {
  if (origins === '*') return ANY_ORIGIN_HEADERS;
  const origin = requestHeaders.origin;
  if (origin === undefined || !origins.includes(origin)) return VARY_ORIGIN;
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

/** The request's origin when it is one of `origins`; no other is ever echoed. */
function allowedOrigin(origins: UploadOrigins, requestHeaders: IncomingHttpHeaders): string | undefined {
  const origin = requestHeaders.origin;
  return origin !== undefined && origins.includes(origin) ? origin : undefined;
}

function preflightOf(origin: string, methods: readonly string[], requestHeaders: readonly string[]): CorsHeaders {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': methods.join(', '),
    'Access-Control-Allow-Headers': requestHeaders.join(', '),
    'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS,
    Vary: 'Origin',
  };
}

/**
 * A preflight of a path that reads (CORS_ORIGINS) and may also write (`writes`): an origin of
 * CORS_UPLOAD_ORIGINS is told the write's method and headers too, and gets its own origin back
 * even where reads are open to `*`, since a request with a key is never one for any origin.
 */
export function corsPreflightHeaders(origins: CorsOrigins, requestHeaders: IncomingHttpHeaders, writes?: CorsWrites): CorsHeaders {
  const writer = writes && allowedOrigin(writes.origins, requestHeaders);
  if (writes && writer !== undefined) {
    const reads = origins === '*' || origins.includes(writer);
    const methods = [...(reads ? READ_METHODS : []), ...writes.route.methods];
    const headers = [...new Set([...(reads ? READ_REQUEST_HEADERS : []), ...writes.route.requestHeaders])];
    return preflightOf(writer, methods, headers);
  }
  const read = corsReadHeaders(origins, requestHeaders);
  if (read['Access-Control-Allow-Origin'] === undefined) return read;
  return {
    ...read,
    'Access-Control-Allow-Methods': READ_METHODS.join(', '),
    'Access-Control-Allow-Headers': READ_REQUEST_HEADERS.join(', '),
    'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS,
  };
}

/** What an answer of a write carries, preflight or not: CORS for an allowed origin, and always `Vary: Origin`. */
export function corsWriteHeaders({ origins, route }: CorsWrites, method: string | undefined, requestHeaders: IncomingHttpHeaders): CorsHeaders {
  const origin = allowedOrigin(origins, requestHeaders);
  if (origin === undefined) return VARY_ORIGIN;
  if (method === 'OPTIONS') return preflightOf(origin, route.methods, route.requestHeaders);
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': route.exposedHeaders.join(', '), Vary: 'Origin' };
}

/** Sets those headers first, so that refusals (401, 413, 429) are readable by the page too. */
export function corsForWrites(writes: CorsWrites): RequestHandler {
  return (req, res, next) => {
    res.set(corsWriteHeaders(writes, req.method, req.headers));
    next();
  };
}
