import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type AugmentedRequest, type Logger as RateLimitLogger } from 'express-rate-limit';
import { AppError } from '../core/app-error';
import type { Logger } from '../core/logger';
import type { ApiKeys } from './api-keys';
import { createClientIdentifier } from './client-identity';

export const WINDOW_MS = 60_000;

export interface UploadRateLimitOptions {
  /** Uploads per client per minute; 0 turns the limit off. */
  readonly uploadRateLimit: number;
  /** Proxies in front of the API, whose X-Forwarded-For names the client's address. */
  readonly trustProxy: number;
  readonly logger: Logger;
}

/**
 * The client's address (behind TRUST_PROXY proxies, the one they report), IPv6 addresses by
 * their /56 as one client may hold all of it.
 */
export function addressKey(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`;
}

/** Whole seconds until `time`, at least 1: what Retry-After says. */
export function secondsUntil(time: Date | undefined): number {
  if (!time) return WINDOW_MS / 1000;
  return Math.max(1, Math.ceil((time.getTime() - Date.now()) / 1000));
}

/** Where express-rate-limit reports what it has to say. */
export function rateLimitLogger(logger: Logger): RateLimitLogger {
  return {
    error: (error, message) => logger.error({ err: error }, message ?? 'express-rate-limit error'),
    warn: (error, message) => logger.warn({ err: error }, message ?? 'express-rate-limit warning'),
  };
}

/**
 * Counts every upload request, refused ones included, before its body is read: guessing keys
 * from one address is held to the same pace as uploading. Headers follow the IETF RateLimit
 * draft 8; the refusal is our problem+json with Retry-After, and closes the unread body's connection.
 */
export function createUploadRateLimit(apiKeys: ApiKeys, options: UploadRateLimitOptions): RequestHandler {
  if (options.uploadRateLimit === 0) return (_req, _res, next) => next();
  const { logger } = options;
  // Clients are told apart as for the transformation queue's shares: by key, else by address.
  const clientOf = createClientIdentifier(apiKeys, options.trustProxy);
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: options.uploadRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'uploads',
    keyGenerator: clientOf,
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
    logger: rateLimitLogger(logger),
  });
}
