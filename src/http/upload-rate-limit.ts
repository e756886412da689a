import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type AugmentedRequest } from 'express-rate-limit';
import { AppError } from '../errors/app-error';
import type { Logger } from '../logger';
import type { ApiKeys } from './api-keys';

const WINDOW_MS = 60_000;

export interface UploadRateLimitOptions {
  /** Uploads per client per minute; 0 turns the limit off. */
  readonly uploadRateLimit: number;
  readonly logger: Logger;
}

/**
 * A client with a valid key is counted by its key, wherever it connects from; any other
 * request by its address, IPv6 addresses by their /56 as one client may hold all of it.
 */
function clientKey(req: Request, apiKeys: ApiKeys): string {
  const verdict = apiKeys.verify(req.headers.authorization);
  if (verdict.outcome === 'valid') return `key:${verdict.clientId}`;
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`;
}

function secondsUntil(time: Date | undefined): number {
  if (!time) return WINDOW_MS / 1000;
  return Math.max(1, Math.ceil((time.getTime() - Date.now()) / 1000));
}

/**
 * Counts every upload request, refused ones included, before its body is read: guessing keys
 * from one address is held to the same pace as uploading. Headers follow the IETF RateLimit
 * draft 8; the refusal is our problem+json with Retry-After, and closes the unread body's connection.
 */
export function createUploadRateLimit(apiKeys: ApiKeys, options: UploadRateLimitOptions): RequestHandler {
  if (options.uploadRateLimit === 0) return (_req, _res, next) => next();
  const { logger } = options;
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: options.uploadRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'uploads',
    keyGenerator: (req) => clientKey(req, apiKeys),
    handler: (req, _res, next) => {
      const retryAfter = secondsUntil((req as AugmentedRequest).rateLimit?.resetTime);
      next(
        new AppError(
          'rate-limited',
          `At most ${options.uploadRateLimit} uploads a minute are accepted; try again in ${retryAfter} s.`,
          { headers: { 'Retry-After': String(retryAfter), Connection: 'close' } },
        ),
      );
    },
    logger: {
      error: (error, message) => logger.error({ err: error }, message ?? 'express-rate-limit error'),
      warn: (error, message) => logger.warn({ err: error }, message ?? 'express-rate-limit warning'),
    },
  });
}
