import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../core/app-error';
import type { Clock } from '../core/clock';
import {
  parseTransformationQuery,
  PRESET_PARAMETER,
  TRANSFORMATION_PARAMETERS,
  type TransformationRules,
} from '../variants/transformation';

export const SIGNATURE_PARAMETER = 'sig';
export const EXPIRY_PARAMETER = 'exp';

/** What a signature covers besides the path; other parameters (cache busters) may change freely. */
const SIGNED_PARAMETERS = [...TRANSFORMATION_PARAMETERS, PRESET_PARAMETER, EXPIRY_PARAMETER].sort();

/** The path, then the signed parameters sorted by name, URL-encoded: `/image/<id>?exp=…&w=…`. */
function signingInput(path: string, parameters: URLSearchParams): string {
  const signed = new URLSearchParams();
  for (const name of SIGNED_PARAMETERS) for (const value of parameters.getAll(name)) signed.append(name, value);
  return `${path}?${signed.toString()}`;
}

function signatureOf(key: string, path: string, parameters: URLSearchParams): string {
  return createHmac('sha256', key).update(signingInput(path, parameters)).digest('base64url');
}

export type SignatureCheck = 'unsigned' | 'valid' | 'invalid' | 'expired';

/** Compared in constant time, so that timing tells nothing of the right signature. */
export function checkSignature(key: string, path: string, parameters: URLSearchParams, nowSeconds: number): SignatureCheck {
  const given = parameters.getAll(SIGNATURE_PARAMETER);
  if (given.length === 0) return 'unsigned';
  const expected = Buffer.from(signatureOf(key, path, parameters));
  const actual = Buffer.from(given.length === 1 ? (given[0] ?? '') : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return 'invalid';
  const expiry = parameters.get(EXPIRY_PARAMETER);
  if (expiry === null) return 'valid';
  return /^\d{1,12}$/.test(expiry) && Number(expiry) >= nowSeconds ? 'valid' : 'expired';
}

/** The expiry of a URL whose signature checked valid, in Unix seconds; undefined when it has none. */
export function expiryOf(parameters: URLSearchParams): number | undefined {
  const expiry = parameters.get(EXPIRY_PARAMETER);
  return expiry === null ? undefined : Number(expiry);
}

/** `path` with `query`, an expiry when given (Unix seconds) and their signature appended. */
export function signUrl(key: string, path: string, query: string, expiresAt?: number): string {
  const parameters = new URLSearchParams(query);
  parameters.delete(SIGNATURE_PARAMETER);
  parameters.delete(EXPIRY_PARAMETER);
  if (expiresAt !== undefined) parameters.set(EXPIRY_PARAMETER, String(expiresAt));
  parameters.set(SIGNATURE_PARAMETER, signatureOf(key, path, parameters));
  return `${path}?${parameters.toString()}`;
}

export interface UrlSignerOptions {
  readonly signingKey: string | undefined;
  readonly maxVariantPixels: number;
  readonly presets: TransformationRules['presets'];
  /** What an expiry counts from. */
  readonly clock: Clock;
}

export interface SignedUrl {
  readonly url: string;
  /** Unix seconds; null: the URL never expires. */
  readonly expiresAt: number | null;
}

/** `expiresInSeconds` absent: the URL never expires. */
export type UrlSigner = (imageId: string, query: string, expiresInSeconds?: number) => SignedUrl;

/**
 * Signs read URLs for `POST /image/:id/sign` and `npm run sign`; the transformation is checked
 * as a signed read would check it, so that a signed URL never answers 400.
 */
export function createUrlSigner(options: UrlSignerOptions): UrlSigner {
  const rules: TransformationRules = { ...options, sizes: undefined };
  return (imageId, query, expiresInSeconds) => {
    const key = options.signingKey;
    if (key === undefined) throw new AppError('signing-not-configured', 'Set SIGNING_KEY to sign URLs.');
    const parsed = parseTransformationQuery(new URLSearchParams(query), rules);
    if (parsed && !parsed.ok) throw new AppError('invalid-transformation', `${parsed.invalid.parameter} ${parsed.invalid.reason}.`);
    const expiresAt = expiresInSeconds === undefined ? null : Math.floor(options.clock() / 1000) + expiresInSeconds;
    return { url: signUrl(key, `/image/${imageId}`, query, expiresAt ?? undefined), expiresAt };
  };
}
