import type { ErrorRequestHandler, RequestHandler } from 'express';
import { databaseUnavailable, isDatabaseUnavailable } from '../database/database-errors';
import type { Logger } from '../logger';
import { AppError } from './app-error';

const PROBLEM_TYPE_PREFIX = 'urn:image-api:problem:';

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) return databaseUnavailable(error);
  return new AppError('internal-error', 'Something went wrong on our side.', { cause: error });
}

export const routeNotFound: RequestHandler = (req) => {
  throw new AppError('route-not-found', `No route for ${req.method} ${req.path}.`);
};

/** Turns anything thrown into RFC 9457 problem+json; unexpected errors keep their message to the log. */
export function problemResponder(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const problem = toAppError(error);
    const logLevel = problem.status >= 500 ? 'error' : 'debug';
    logger[logLevel]({ err: error, method: req.method, url: req.originalUrl, code: problem.code }, problem.title);

    if (res.headersSent) {
      res.destroy();
      return;
    }
    res
      .status(problem.status)
      .set(problem.headers)
      .type('application/problem+json')
      .json({
        type: `${PROBLEM_TYPE_PREFIX}${problem.code}`,
        title: problem.title,
        status: problem.status,
        detail: problem.message,
        code: problem.code,
        instance: req.originalUrl,
      });
  };
}
