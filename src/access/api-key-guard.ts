import type { Request, RequestHandler } from 'express';
import { MemoryStore, rateLimit, type AugmentedRequest } from 'express-rate-limit';
import { AppError } from '../core/app-error';
import type { Logger } from '../core/logger';
import type { ApiKeys } from './api-keys';
import { addressKey, rateLimitLogger, secondsUntil, WINDOW_MS } from './upload-rate-limit';

const REALM = 'Bearer realm="image-api"';

/**
 * The refusal is sent before the body is read; the connection then closes, so that a client
 * still sending is not left waiting and the unread bytes are never parsed.
 */
const missingKey = (detail: string) =>
  new AppError('missing-api-key', detail, { headers: { 'WWW-Authenticate': REALM, Connection: 'close' } });

/**
 * RFC 6750 answers a wrong token with 401; we answer 403 so that a client can tell "send a key"
 * from "this key is not accepted" by the status alone, and still name the error as RFC 6750 does.
 */
const wrongKey = () =>
  new AppError('invalid-api-key', 'The API key is not accepted.', {
    headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token"`, Connection: 'close' },
  });

const tooManyWrongKeys = (limit: number, retryAfter: number) =>
  new AppError('rate-limited', `More than ${limit} wrong API keys came from this address within a minute; try again in ${retryAfter} s.`, {
    headers: { 'Retry-After': String(retryAfter), Connection: 'close' },
  });

/** The keys writes need, and the guard that asks for one. */
export interface ApiKeyAccess {
  readonly apiKeys: ApiKeys;
  readonly requireApiKey: RequestHandler;
}

export interface ApiKeyGuardOptions {
  /** Wrong keys per client address per minute, beyond which the address is refused; 0: no limit. */
  readonly apiKeyFailureLimit: number;
  readonly logger: Logger;
}

interface WrongKeyCounter {
  /** Seconds until the address may try again, or undefined when it may now. */
  blockedFor(req: Request): Promise<number | undefined>;
  /** Counts a wrong key from the request's address, then passes on `refusal`, or the 429 if that was one too many. */
  count: RequestHandler;
}

/**
 * Counts wrong keys per address in express-rate-limit's store, through its middleware, which
 * answers the one wrong key too many; an address over the limit is refused before its key is
 * looked at, a right one included, so that guessing on learns nothing until the minute is over.
 */
function countWrongKeys(options: ApiKeyGuardOptions): WrongKeyCounter {
  const limit = options.apiKeyFailureLimit;
  const store = new MemoryStore();
  const count = rateLimit({
    windowMs: WINDOW_MS,
    limit,
    store,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: addressKey,
    handler: (req, _res, next) => {
      next(tooManyWrongKeys(limit, secondsUntil((req as AugmentedRequest).rateLimit?.resetTime)));
    },
    logger: rateLimitLogger(options.logger),
  });
  return {
    async blockedFor(req) {
      const seen = await store.get(addressKey(req));
      return seen !== undefined && seen.totalHits >= limit ? secondsUntil(seen.resetTime) : undefined;
    },
    count,
  };
}

/**
 * Lets a request through only with `Authorization: Bearer <one of the keys>`, or when no key is
 * configured. Mount it before any body parser. Messages never repeat what the client sent.
 * One guard for every route that takes a key, so that wrong keys are counted across all of them.
 */
export function createApiKeyGuard(keys: ApiKeys, options: ApiKeyGuardOptions): RequestHandler {
  const wrongKeys = options.apiKeyFailureLimit > 0 ? countWrongKeys(options) : undefined;
  return async (req, res, next) => {
    const verdict = keys.verify(req.headers.authorization);
    const retryAfter = verdict.outcome === 'not-required' ? undefined : await wrongKeys?.blockedFor(req);
    if (retryAfter !== undefined) {
      next(tooManyWrongKeys(options.apiKeyFailureLimit, retryAfter));
      return;
    }
    switch (verdict.outcome) {
      case 'not-required':
      case 'valid':
        next();
        return;
      case 'missing':
        next(missingKey('Send an API key as "Authorization: Bearer <key>".'));
        return;
      case 'malformed':
        next(missingKey('The Authorization header must be "Bearer <key>".'));
        return;
      case 'wrong':
        if (wrongKeys) await wrongKeys.count(req, res, (error?: unknown) => next(error ?? wrongKey()));
        else next(wrongKey());
        return;
    }
  };
}
