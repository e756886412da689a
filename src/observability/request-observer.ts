import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactUrl, type Logger } from '../core/logger';
import type { Metrics, UploadOutcome } from './metrics';

/** Ids from a proxy or client are kept when they are short and plain, so they cannot forge log lines. */
const CLIENT_REQUEST_ID = /^[\w.:@-]{1,128}$/;

export const REQUEST_ID_HEADER = 'X-Request-Id';

declare global {
  namespace Express {
    interface Locals {
      /** Set first for every request Express serves: where its handlers report to the observer. */
      report?: RequestReport;
    }
  }
}

/**
 * How an upload ended, judged once its request is over (answered or cut off), from the answer
 * and the code of the problem it carried, if any; undefined when the request ended no upload.
 */
export type UploadJudge = (res: ServerResponse, problemCode: string | undefined) => UploadOutcome | undefined;

/**
 * What the code serving a request tells the observer, which knows no routes and no rules:
 * the problem it answered with, and whether (and how) it ended an upload.
 */
export interface RequestReport {
  /** The request's id, which the answer must carry in `X-Request-Id`. */
  readonly id: string;
  answeredWithProblem(code: string): void;
  endsUpload(judge: UploadJudge): void;
}

/**
 * Starts observing a request. The caller sets `X-Request-Id`, because a header set before
 * `writeHead` sends every other header through `setHeader` too, which costs a 304 a tenth of
 * its time. A caller that already knows the request's documented route gives it, and it is
 * not looked up again.
 */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse, route?: string) => RequestReport;

/** The bounded label a request's path is counted under, whatever paths clients make up. */
export type RouteLabeller = (url: string) => string;

/** A multipart upload's outcome follows from its answer: one request is the whole upload. */
export const judgedByAnswer: UploadJudge = (res) => {
  if (!res.writableFinished) return 'aborted';
  if (res.statusCode < 400) return 'stored';
  return res.statusCode < 500 ? 'rejected' : 'failed';
};

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

/** One request under observation, and the report its handlers fill in; one object, no closures, for a 304's sake. */
class Exchange implements RequestReport {
  readonly startedAt = process.hrtime.bigint();
  readonly bytesReadBefore: number;
  readonly bytesWrittenBefore: number;
  problemCode: string | undefined;
  judge: UploadJudge | undefined;

  constructor(
    readonly id: string,
    /** Kept as it arrived: Express rewrites `req.url` inside mounted routers. */
    readonly url: string,
    readonly route: string,
    socket: IncomingMessage['socket'],
  ) {
    this.bytesReadBefore = socket.bytesRead;
    this.bytesWrittenBefore = socket.bytesWritten;
  }

  answeredWithProblem(code: string): void {
    this.problemCode = code;
  }

  endsUpload(judge: UploadJudge): void {
    this.judge = judge;
  }
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

/**
 * One log line and one set of metrics per request, whichever path answers it: both are taken
 * when the connection closes or the response finishes. Bytes sent come from the socket, so they
 * include headers and cover aborted transfers.
 *
 * A 304 costs the server about ten microseconds, so this stays lean: nothing is added to
 * `req` or `res` (new properties on Node's own objects slow every request after), no logger is
 * made per request, and a line below the log level costs nothing to build.
 */
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
    const upload = exchange.judge?.(res, exchange.problemCode);
    if (upload) metrics.countUpload(upload, exchange.problemCode ?? '');
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
    const exchange = new Exchange(requestIdOf(req), url, route ?? routeOf(url), req.socket);
    // 'close' comes once per response, after 'finish' or on its own when the connection drops.
    res.on('close', () => record(res, exchange));
    return exchange;
  };
}
