import { createHash, timingSafeEqual } from 'node:crypto';
import { ANYONE, type Caller } from '../core/caller';

/** One configured key and the name its images are recorded under. */
export interface NamedApiKey {
  readonly name: string;
  readonly key: string;
  /** Set for ADMIN_API_KEYS: may touch every image and upload. */
  readonly admin: boolean;
}

/** What an `Authorization` header amounts to against the configured keys. */
export type ApiKeyVerdict =
  | { readonly outcome: 'not-required' }
  | { readonly outcome: 'missing' }
  | { readonly outcome: 'malformed' }
  | { readonly outcome: 'wrong' }
  /** `clientId` is the key's SHA-256, so that a client can be told apart without keeping its key. */
  | { readonly outcome: 'valid'; readonly clientId: string; readonly caller: Caller };

export interface ApiKeys {
  /** False when no key is configured: then anyone may write. */
  readonly required: boolean;
  verify(authorization: string | undefined): ApiKeyVerdict;
  /** Who sent a request the guard let through: its key's holder, or anyone when no key is configured. */
  callerOf(authorization: string | undefined): Caller;
}

/** RFC 6750 credentials: the scheme is case-insensitive; our keys are printable ASCII without spaces. */
const BEARER_CREDENTIALS = /^bearer +([!-~]+)$/i;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The name of a key configured without one: stable across restarts and instances, so that its
 * images stay its own, and too short a part of the key's hash to help anyone guess the key.
 */
export function derivedKeyName(key: string): string {
  return `key-${sha256(key).toString('hex').slice(0, 12)}`;
}

interface KeyDigest {
  readonly digest: Buffer;
  readonly caller: Caller;
}

/**
 * Keys are compared by their SHA-256 digests, which all have the same length, so that neither
 * a key's length nor the position of its first wrong character shows in the time an answer
 * takes; every configured key is compared, so neither does which key matched.
 */
function matchOf(digest: Buffer, keyDigests: readonly KeyDigest[]): Caller | undefined {
  return keyDigests.reduce<Caller | undefined>((matched, key) => (timingSafeEqual(digest, key.digest) ? key.caller : matched), undefined);
}

export function createApiKeys(keys: readonly NamedApiKey[]): ApiKeys {
  const keyDigests = keys.map(({ key, name, admin }) => ({ digest: sha256(key), caller: Object.freeze({ owner: name, admin }) }));
  const required = keyDigests.length > 0;
  const verify = (authorization: string | undefined): ApiKeyVerdict => {
    if (!required) return { outcome: 'not-required' };
    if (authorization === undefined || authorization.trim() === '') return { outcome: 'missing' };
    const presented = BEARER_CREDENTIALS.exec(authorization.trim())?.[1];
    if (presented === undefined) return { outcome: 'malformed' };
    const digest = sha256(presented);
    const caller = matchOf(digest, keyDigests);
    if (!caller) return { outcome: 'wrong' };
    return { outcome: 'valid', clientId: digest.toString('hex'), caller };
  };
  return {
    required,
    verify,
    callerOf(authorization) {
      const verdict = verify(authorization);
      if (verdict.outcome === 'valid') return verdict.caller;
      if (verdict.outcome === 'not-required') return ANYONE;
      // The guard refuses such a request first; a route without it must not be opened by mistake.
      throw new Error('a request without a valid API key reached a route that needs one');
    },
  };
}
