import type { RequestHandler } from 'express';
import { AppError } from '../errors/app-error';
import type { ApiKeys } from './api-keys';

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

/**
 * Lets a request through only with `Authorization: Bearer <one of the keys>`, or when no key is
 * configured. Mount it before any body parser. Messages never repeat what the client sent.
 */
export function createApiKeyGuard(keys: ApiKeys): RequestHandler {
  return (req, _res, next) => {
    const verdict = keys.verify(req.headers.authorization);
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
        next(wrongKey());
        return;
    }
  };
}
