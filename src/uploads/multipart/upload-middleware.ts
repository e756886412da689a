import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { AppError } from '../../core/app-error';
import { watchBodyIdle } from '../../http/body-idle-timer';
import { createGridFsStorage, StorageFailure, type GridFsStorage, type OwnerOf } from './gridfs-storage-engine';
import type { ImageService } from '../image-service';

export const UPLOAD_FIELD = 'images';

export interface UploadLimits {
  readonly maxFileSize: number;
  readonly maxFiles: number;
}

export interface UploadOptions extends UploadLimits {
  readonly uploadIdleTimeoutSeconds: number;
}

/** Text fields are ignored, but a client may still send a few (Postman adds some); these keep them cheap. */
export const FIELD_LIMITS = { fields: 20, fieldSize: 64 * 1024, fieldNameSize: 200 } as const;

function fromMulterError(error: MulterError, limits: UploadLimits): AppError {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return new AppError('file-too-large', `Each file may be at most ${limits.maxFileSize} bytes.`, { cause: error });
    case 'LIMIT_FILE_COUNT':
      return new AppError('too-many-files', `At most ${limits.maxFiles} files may be sent at once.`, { cause: error });
    case 'LIMIT_UNEXPECTED_FILE':
      return new AppError(
        'unexpected-field',
        `Files must be sent in the "${UPLOAD_FIELD}" field, not "${error.field ?? ''}".`,
        { cause: error },
      );
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FIELD_KEY':
    case 'LIMIT_FIELD_VALUE':
    case 'LIMIT_FIELD_COUNT':
      return new AppError('form-too-large', `${error.message}.`, { cause: error });
    default:
      return new AppError('malformed-multipart', `${error.message}.`, { cause: error });
  }
}

/** Anything not from the storage engine or multer's limits is the parser's: a cut-off or garbled body. */
function toUploadError(error: unknown, limits: UploadLimits): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof StorageFailure) return error.cause;
  if (error instanceof MulterError) return fromMulterError(error, limits);
  const reason = error instanceof Error ? error.message : 'unreadable body';
  return new AppError('malformed-multipart', `The multipart body could not be read: ${reason}.`, { cause: error });
}

/** Room for multipart boundaries, part headers and the text fields FIELD_LIMITS lets through. */
const FORM_OVERHEAD_BYTES = 2 * 1024 * 1024;

/**
 * A body announced larger than every file at its limit could ever need is refused before a
 * byte of it is read; the connection closes, since the rest of the body will not be read.
 */
function refuseOversizedBody(req: Request, res: Response, limits: UploadLimits): AppError | undefined {
  const announced = Number(req.headers['content-length'] ?? 0);
  if (announced <= limits.maxFiles * limits.maxFileSize + FORM_OVERHEAD_BYTES) return undefined;
  res.setHeader('Connection', 'close');
  return new AppError(
    'file-too-large',
    `The request announces ${announced} bytes; at most ${limits.maxFiles} files of ${limits.maxFileSize} bytes each are accepted.`,
  );
}

function idleTimeout(seconds: number): AppError {
  return new AppError('request-timeout', `No byte of the upload arrived for ${seconds} s; the connection is closed.`, {
    // The rest of the body will not be read.
    headers: { Connection: 'close' },
  });
}

/**
 * A client that stops sending in the middle of an upload. multer stops on an error from the
 * request, and would then answer only once the body ends, which this client may never do:
 * so the answer is sent from here, once the storage has removed what the upload wrote.
 */
function stopStalledUpload(req: Request, error: AppError, storage: GridFsStorage, answer: (error: AppError) => void): void {
  req.emit('error', error);
  void storage.settled(req).then(() => {
    answer(error);
  });
}

export function createUploadMiddleware(images: ImageService, ownerOf: OwnerOf, limits: UploadOptions): RequestHandler {
  const storage = createGridFsStorage(images, ownerOf);
  const parse = multer({
    storage: storage.engine,
    // Browsers and curl send file names as raw UTF-8; busboy would read them as Latin-1.
    defParamCharset: 'utf8',
    limits: { ...FIELD_LIMITS, fileSize: limits.maxFileSize, files: limits.maxFiles },
  }).array(UPLOAD_FIELD);

  return (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      next(new AppError('not-multipart', `Send the images as multipart/form-data in the "${UPLOAD_FIELD}" field.`));
      return;
    }
    const oversized = refuseOversizedBody(req, res, limits);
    if (oversized) {
      next(oversized);
      return;
    }
    let answered = false;
    const answer = (error: unknown) => {
      if (answered) return;
      answered = true;
      next(error);
    };
    const idle = watchBodyIdle(req, res, limits.uploadIdleTimeoutSeconds * 1000, () => {
      stopStalledUpload(req, idleTimeout(limits.uploadIdleTimeoutSeconds), storage, answer);
    });
    parse(req, res, (error: unknown) => {
      idle.stop();
      void storage.settled(req).then(() => {
        answer(error ? toUploadError(error, limits) : undefined);
      });
    });
  };
}
