import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import { problemCodeOf } from '../errors/problem-responder';
import type { Logger } from '../logger';
import type { Metrics, UploadOutcome } from './metrics';
import { routeOf } from './route-of';

/** Ids from a proxy or client are kept when they are short and plain, so they cannot forge log lines. */
const CLIENT_REQUEST_ID = /^[\w.:@-]{1,128}$/;

export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => void;

function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
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

/**
 * One log line and one set of metrics per request, whichever path answers it: both are taken
 * when the response finishes or the connection closes. Bytes sent come from the socket, so they
 * include headers and cover aborted transfers.
 */
export function createRequestObserver(logger: Logger, metrics: Metrics): RequestObserver {
  const exchanges = new WeakMap<ServerResponse, Exchange>();
  const bytesSent = (res: ServerResponse) => res.req.socket.bytesWritten - (exchanges.get(res)?.bytesWrittenBefore ?? 0);

  const logRequest = pinoHttp({
    logger,
    genReqId: requestIdFor,
    serializers: {
      req: (req: { id: unknown; method: unknown; url: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessObject: (_req, res, fields: object) => ({
      ...fields,
      route: exchanges.get(res)?.route,
      bytes: bytesSent(res),
      ...(res.writableFinished ? {} : { aborted: true }),
    }),
  });

  function record(res: ServerResponse): void {
    const exchange = exchanges.get(res);
    if (!exchange) return;
    metrics.observeRequest({
      method: res.req.method ?? '',
      route: exchange.route,
      status: res.statusCode,
      seconds: Number(process.hrtime.bigint() - exchange.startedAt) / 1e9,
      bytesReceived: bodyBytesReceived(res.req, exchange),
      bytesSent: bytesSent(res),
    });
    if (exchange.route === '/image/upload' && res.req.method === 'POST') {
      metrics.countUpload(uploadOutcome(res), problemCodeOf(res) ?? '');
    }
    const resumable = exchange.route.startsWith('/image/uploads') ? resumableOutcome(res) : undefined;
    if (resumable) metrics.countUpload(resumable, problemCodeOf(res) ?? '');
  }

  return (req, res) => {
    exchanges.set(res, {
      route: routeOf(req.url ?? ''),
      startedAt: process.hrtime.bigint(),
      bytesReadBefore: req.socket.bytesRead,
      bytesWrittenBefore: req.socket.bytesWritten,
    });
    res.once('close', () => record(res));
    logRequest(req, res);
  };
}
