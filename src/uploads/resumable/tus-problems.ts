import { AppError, type ErrorCode } from '../../core/app-error';
import { fileTooLarge } from '../../media/content-rules';

/** How @tus/server and @tus/utils describe a refusal. */
interface TusError {
  readonly status_code: number;
  readonly body: string;
}

function isTusError(error: unknown): error is TusError {
  const candidate = error as Partial<TusError> | null | undefined;
  return typeof candidate?.status_code === 'number' && typeof candidate.body === 'string';
}

const codeByTusStatus: Readonly<Partial<Record<number, ErrorCode>>> = {
  400: 'malformed-tus-request',
  // tus answers a missing Upload-Offset or Content-Type with 403; it is a malformed request all the same.
  403: 'malformed-tus-request',
  404: 'upload-not-found',
  409: 'upload-offset-mismatch',
  410: 'upload-expired',
  412: 'unsupported-tus-version',
  // tus's answer to an error that is not one of its refusals.
  500: 'internal-error',
  501: 'unsupported-tus-extension',
};

/** What a 413 is told by: the limit, and the Upload-Length the request declared, if it declared one. */
export interface TusSizes {
  readonly maxFileSize: number;
  readonly declaredLength: number | undefined;
}

/** The Upload-Length a tus request declares (a creation), or undefined (a PATCH). */
export function declaredLengthOf(request: Request): number | undefined {
  const declared = request.headers.get('upload-length');
  return declared === null ? undefined : Number(declared);
}

/**
 * @tus/server answers 413 both for an Upload-Length over MAX_FILE_SIZE and for a body going past
 * the Upload-Length the upload declared; only the first is a file too large.
 */
function tooLarge({ maxFileSize, declaredLength }: TusSizes): AppError {
  if (declaredLength !== undefined && declaredLength > maxFileSize) return fileTooLarge(maxFileSize);
  return new AppError(
    'upload-length-exceeded',
    "The body goes past the upload's declared length (Upload-Length): send at most Upload-Length minus Upload-Offset bytes.",
  );
}

/** A refusal of @tus/server's, as one of our problems; its text becomes the detail, but for sizes, told in our words. */
export function problemOfTusAnswer(status: number, text: string, sizes: TusSizes): AppError {
  if (status === 413) return tooLarge(sizes);
  const code = codeByTusStatus[status] ?? (status >= 500 ? 'internal-error' : 'malformed-tus-request');
  const detail = code === 'internal-error' ? 'Something went wrong on our side.' : text.trim() || `tus answered ${status}.`;
  return new AppError(code, detail.endsWith('.') ? detail : `${detail}.`);
}

/**
 * What to answer for an error @tus/server caught: our own errors as they are, its refusals
 * translated, and anything else kept whole, so that the problem responder logs it as ours.
 */
export function problemOfTusError(error: unknown, sizes: TusSizes): Error {
  if (error instanceof AppError) return error;
  if (isTusError(error)) return problemOfTusAnswer(error.status_code, error.body, sizes);
  return error instanceof Error ? error : new Error('@tus/server failed', { cause: error });
}
