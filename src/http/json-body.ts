import express, { type Request, type RequestHandler } from 'express';
import { AppError } from '../core/app-error';

/** The rest of a refused body will not be read: the connection closes rather than drain it. */
const UNREAD_BODY = { headers: { Connection: 'close' } } as const;

/** body-parser's errors carry the HTTP status they stand for. */
function statusOf(error: unknown): number | undefined {
  const { status } = (error ?? {}) as { status?: unknown };
  return typeof status === 'number' ? status : undefined;
}

function toBodyError(error: unknown, limitBytes: number): AppError {
  switch (statusOf(error)) {
    case 413:
      return new AppError('body-too-large', `The body may be at most ${limitBytes} bytes.`, { ...UNREAD_BODY, cause: error });
    case 415:
      return new AppError('not-json', 'Send the body as UTF-8 JSON.', { cause: error });
    default:
      return new AppError('malformed-request', 'The body is not valid JSON.', { cause: error });
  }
}

/** No body, or one of 0 bytes, which many clients announce for a POST without one. */
function isEmpty(req: Request): boolean {
  return req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0;
}

/**
 * An optional JSON body of at most `limitBytes`. A body of another type is refused (415) rather
 * than ignored, which would carry out the request as if nothing had been sent; a longer one is
 * refused (413) before it is read.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse: RequestHandler = express.json({ limit: limitBytes });
  return (req, res, next) => {
    if (!isEmpty(req) && !req.is('application/json')) {
      next(new AppError('not-json', 'Send the body as JSON, with Content-Type: application/json.', UNREAD_BODY));
      return;
    }
    parse(req, res, (error?: unknown) => {
      next(error === undefined ? undefined : toBodyError(error, limitBytes));
    });
  };
}
