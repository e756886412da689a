import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { problemCodeOf } from '../http/problem-responder';
import { redactUrl, type Logger } from '../core/logger';
import type { Metrics, UploadOutcome } from './metrics';

/** Ids from a proxy or client are kept when they are short and plain, so they cannot forge log lines. */
const CLIENT_REQUEST_ID = /^[\w.:@-]{1,128}$/;

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Starts observing a request and returns its id, which the answer must carry in
 * `X-Request-Id`: the caller sets it, because a header set before `writeHead` sends every
 * other header through `setHeader` too, which costs a 304 a tenth of its time. A caller that
 * already knows the request's documented route gives it, and it is not looked up again.
 */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse, route?: string) => string;

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

function uploadOutcome(res: ServerResponse): UploadOutcome {
  if (!res.writableFinished) return 'aborted';
  if (res.statusCode < 400) return 'stored';
  return res.statusCode < 500 ? 'rejected' : 'failed';
}

/** Refusals of a resumable upload that end it, as a multipart upload's refusal would. */
const RESUMABLE_REFUSALS: ReadonlySet<string> = new Set([
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
function resumableOutcome(res: ServerResponse): UploadOutcome | undefined {
  const method = res.req.method;
  if (method === 'DELETE') return res.statusCode === 204 ? 'aborted' : undefined;
  if (method !== 'POST' && method !== 'PATCH') return undefined;
  if (res.statusCode < 300 && res.hasHeader('X-Image-Id')) return 'stored';
  if (res.statusCode >= 500) return 'failed';
  return RESUMABLE_REFUSALS.has(problemCodeOf(res) ?? '') ? 'rejected' : undefined;
}

interface Exchange {
  readonly id: string;
  /** Kept as it arrived: Express rewrites `req.url` inside mounted routers. */
  readonly url: string;
  readonly route: string;
  readonly startedAt: bigint;
  readonly bytesReadBefore: number;
  readonly bytesWrittenBefore: number;
}

/**
 * The announced length of a body read to its end; otherwise (chunked, or cut off) what the
 * socket read since the request began, which misses what arrived with its headers.
 */
function bodyBytesReceived(req: IncomingMessage, exchange: Exchange): number {
  const announced = Number(req.headers['content-length']);
  if (req.complete && Number.isSafeInteger(announced)) return announced;
  return Math.max(0, req.socket.bytesRead - exchange.bytesReadBefore);
}

function countUploadOutcome(metrics: Metrics, res: ServerResponse, route: string): void {
  if (route === '/image/upload' && res.req.method === 'POST') {
    metrics.countUpload(uploadOutcome(res), problemCodeOf(res) ?? '');
  }
  const resumable = route.startsWith('/image/uploads') ? resumableOutcome(res) : undefined;
  if (resumable) metrics.countUpload(resumable, problemCodeOf(res) ?? '');
}

/**
 * One log line and one set of metrics per request, whichever path answers it: both are taken
 * when the connection closes or the response finishes. Bytes sent come from the socket, so they
 * include headers and cover aborted transfers.
 *
 * A 304 costs the server about ten microseconds, so this stays lean: nothing is added to
 * `req` or `res` (new properties on Node's own objects slow every request after), no logger is
 * made per request, and a line below the log level costs nothing to build.
 */
/** The bounded label a request's path is counted under, whatever paths clients make up. */
export type RouteLabeller = (url: string) => string;

export function createRequestObserver(logger: Logger, metrics: Metrics, routeOf: RouteLabeller): RequestObserver {
  function record(res: ServerResponse, exchange: Exchange): void {
    const { req } = res;
    const elapsed = process.hrtime.bigint() - exchange.startedAt;
    const bytes = req.socket.bytesWritten - exchange.bytesWrittenBefore;
    metrics.observeRequest({
      method: req.method ?? '',
      route: exchange.route,
      status: res.statusCode,
      seconds: Number(elapsed) / 1e9,
      bytesReceived: bodyBytesReceived(req, exchange),
      bytesSent: bytes,
    });
    countUploadOutcome(metrics, res, exchange.route);
    const level = res.statusCode >= 500 ? 'error' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        req: { id: exchange.id, method: req.method, url: redactUrl(exchange.url) },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(Number(elapsed) / 1e3) / 1e3,
        route: exchange.route,
        bytes,
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      'request completed',
    );
  }

  return (req, res, route) => {
    const url = req.url ?? '';
    const exchange: Exchange = {
      id: requestIdOf(req),
      url,
      route: route ?? routeOf(url),
      startedAt: process.hrtime.bigint(),
      bytesReadBefore: req.socket.bytesRead,
      bytesWrittenBefore: req.socket.bytesWritten,
    };
    // 'close' comes once per response, after 'finish' or on its own when the connection drops.
    res.on('close', () => record(res, exchange));
    return exchange.id;
  };
}
