import { createHash, timingSafeEqual } from 'node:crypto';

/** What an `Authorization` header amounts to against the configured keys. */
export type ApiKeyVerdict =
  | { readonly outcome: 'not-required' }
  | { readonly outcome: 'missing' }
  | { readonly outcome: 'malformed' }
  | { readonly outcome: 'wrong' }
  /** `clientId` is the key's SHA-256, so that a client can be told apart without keeping its key. */
  | { readonly outcome: 'valid'; readonly clientId: string };

export interface ApiKeys {
  /** False when no key is configured: then anyone may write. */
  readonly required: boolean;
  verify(authorization: string | undefined): ApiKeyVerdict;
}

/** RFC 6750 credentials: the scheme is case-insensitive; our keys are printable ASCII without spaces. */
const BEARER_CREDENTIALS = /^bearer +([!-~]+)$/i;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Keys are compared by their SHA-256 digests, which all have the same length, so that neither
 * a key's length nor the position of its first wrong character shows in the time an answer
 * takes; every configured key is compared, so neither does which key matched.
 */
function matchesAny(digest: Buffer, keyDigests: readonly Buffer[]): boolean {
  return keyDigests.reduce((matched, keyDigest) => timingSafeEqual(digest, keyDigest) || matched, false);
}

export function createApiKeys(keys: readonly string[]): ApiKeys {
  const keyDigests = keys.map(sha256);
  const required = keyDigests.length > 0;
  return {
    required,
    verify(authorization) {
      if (!required) return { outcome: 'not-required' };
      if (authorization === undefined || authorization.trim() === '') return { outcome: 'missing' };
      const presented = BEARER_CREDENTIALS.exec(authorization.trim())?.[1];
      if (presented === undefined) return { outcome: 'malformed' };
      const digest = sha256(presented);
      if (!matchesAny(digest, keyDigests)) return { outcome: 'wrong' };
      return { outcome: 'valid', clientId: digest.toString('hex') };
    },
  };
}
