/**
 * Every error a client can see. The code is part of the API: clients may switch on it,
 * so codes are never renamed, and each one is listed in docs/api.md (a test checks it).
 */
export const errorCatalog = {
  'not-multipart': { status: 400, title: 'Body is not multipart/form-data' },
  'malformed-multipart': { status: 400, title: 'Malformed multipart body' },
  'no-images': { status: 400, title: 'No image in the request' },
  'unexpected-field': { status: 400, title: 'Unexpected file field' },
  'invalid-id': { status: 400, title: 'Malformed image id' },
  'malformed-request': { status: 400, title: 'Malformed request' },
  'invalid-query': { status: 400, title: 'Invalid query parameter' },
  'invalid-transformation': { status: 400, title: 'Invalid transformation parameter' },
  'malformed-tus-request': { status: 400, title: 'Malformed tus request' },
  'upload-finished': { status: 400, title: 'Upload already finished' },
  'missing-api-key': { status: 401, title: 'API key required' },
  'invalid-api-key': { status: 403, title: 'Invalid API key' },
  'invalid-signature': { status: 403, title: 'Invalid or expired URL signature' },
  'signature-required': { status: 403, title: 'Signed URL required' },
  'image-not-found': { status: 404, title: 'Image not found' },
  'route-not-found': { status: 404, title: 'Route not found' },
  'upload-not-found': { status: 404, title: 'Upload not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  'upload-offset-mismatch': { status: 409, title: 'Upload-Offset does not match' },
  'upload-expired': { status: 410, title: 'Upload expired' },
  'file-too-large': { status: 413, title: 'File too large' },
  'too-many-files': { status: 413, title: 'Too many files' },
  'form-too-large': { status: 413, title: 'Form too large' },
  'too-many-pixels': { status: 413, title: 'Image dimensions too large' },
  'upload-length-exceeded': { status: 413, title: 'More bytes than Upload-Length' },
  'body-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-image-type': { status: 415, title: 'Unsupported image type' },
  'not-json': { status: 415, title: 'Body is not application/json' },
  'range-not-satisfiable': { status: 416, title: 'Range not satisfiable' },
  'unsupported-tus-version': { status: 412, title: 'Unsupported tus version' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'image-not-transformable': { status: 422, title: 'Image cannot be transformed' },
  'variant-too-large': { status: 422, title: 'Variant too large to make' },
  'upload-locked': { status: 423, title: 'Upload busy' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'too-many-transformations': { status: 429, title: 'Too many transformations for one client' },
  'headers-too-large': { status: 431, title: 'Request headers too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'signing-not-configured': { status: 501, title: 'URL signing is not configured' },
  'unsupported-tus-extension': { status: 501, title: 'Unsupported tus extension' },
  'database-unavailable': { status: 503, title: 'Database unavailable' },
  'transformations-busy': { status: 503, title: 'Too many transformations waiting' },
  'inspections-busy': { status: 503, title: 'Too many uploads waiting to be checked' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export interface AppErrorOptions {
  readonly cause?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  readonly title: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ErrorCode,
    detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.status = errorCatalog[code].status;
    this.title = errorCatalog[code].title;
    this.headers = options.headers ?? {};
  }
}

/** A refusal of what the client sent (4xx), as against a failure on our side that a retry may get past. */
export function isRefusal(error: unknown): error is AppError {
  return error instanceof AppError && error.status < 500;
}
