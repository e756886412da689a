import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { databaseUnavailable, isDatabaseUnavailable } from '../database/database-errors';
import { redactUrl, type Logger } from '../core/logger';
import { AppError } from '../core/app-error';
import { CACHE_POLICY } from './cache-policy';

const PROBLEM_TYPE_PREFIX = 'urn:image-api:problem:';

/** Every answer carries it: no browser reads a body as another type than it is labelled. */
export const NOSNIFF = { name: 'X-Content-Type-Options', value: 'nosniff' } as const;

export function malformedPath(cause?: unknown): AppError {
  return new AppError('malformed-request', 'The request path is not validly percent-encoded.', { cause });
}

/** Express's router reports an undecodable path as an error with a 4xx `status`. */
function isClientHttpError(error: unknown): boolean {
  const { status } = (error ?? {}) as { status?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500;
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) return databaseUnavailable(error);
  if (isClientHttpError(error)) {
    return error instanceof URIError
      ? malformedPath(error)
      : new AppError('malformed-request', 'The request could not be understood.', { cause: error });
  }
  return new AppError('internal-error', 'Something went wrong on our side.', { cause: error });
}

/**
 * Express rewrites `url` inside routers; the path the client asked for is kept in `originalUrl`.
 * Credentials in its query are left out.
 */
function requestedPath(req: IncomingMessage): string | undefined {
  const path = 'originalUrl' in req && typeof req.originalUrl === 'string' ? req.originalUrl : req.url;
  return path === undefined ? undefined : redactUrl(path);
}

export const routeNotFound: RequestHandler = (req) => {
  throw new AppError('route-not-found', `No route for ${req.method} ${req.path}.`);
};

/** The RFC 9457 document for an error; `instance` is left out when there is no request path to name. */
export function problemBody(problem: AppError, instance: string | undefined): string {
  return JSON.stringify({
    type: `${PROBLEM_TYPE_PREFIX}${problem.code}`,
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    code: problem.code,
    instance,
  });
}

/**
 * Only what nobody planned (`internal-error`) is logged with its stack, at error level. Every
 * other problem is part of the contract and says what happened by its code: a 5xx such as
 * `database-unavailable` or `signing-not-configured` at warn, a 4xx at debug, each with the
 * words of its cause (a library's, say) but no stack.
 */
function logProblem(logger: Logger, problem: AppError, error: unknown, req: IncomingMessage): void {
  const request = { method: req.method, url: requestedPath(req), code: problem.code };
  if (problem.code === 'internal-error') {
    logger.error({ ...request, err: error }, problem.title);
    return;
  }
  const cause = problem.cause instanceof Error ? problem.cause.message : undefined;
  logger[problem.status >= 500 ? 'warn' : 'debug']({ ...request, detail: problem.message, cause }, problem.title);
}

/**
 * Answers anything thrown as RFC 9457 problem+json; unexpected errors keep their message to
 * the log. Plain Node, so that the lean read path and Express answer errors identically.
 * Returns the problem, which the request's report is told of.
 */
export function sendProblem(logger: Logger, error: unknown, req: IncomingMessage, res: ServerResponse): AppError {
  const problem = toAppError(error);
  logProblem(logger, problem, error, req);

  if (res.headersSent) {
    res.destroy();
    return problem;
  }
  const body = problemBody(problem, requestedPath(req));
  res.writeHead(problem.status, {
    // 404, 405 and 501 may be cached by default (RFC 9110, 15.1): an id being uploaded now answers 404.
    'Cache-Control': CACHE_POLICY.never,
    ...problem.headers,
    'Content-Type': 'application/problem+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    [NOSNIFF.name]: NOSNIFF.value,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return problem;
}

export function problemResponder(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    // Answered first: an optional call would skip its argument, and the answer, without a report.
    const { code } = sendProblem(logger, error, req, res);
    res.locals.report?.answeredWithProblem(code);
  };
}
