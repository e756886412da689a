import type { StorageEngine } from 'multer';
import { AppError } from '../errors/app-error';
import type { ImageRecord } from './image-repository';
import type { ImageService } from './image-service';

declare global {
  namespace Express {
    namespace Multer {
      interface File {
        /** Set by the GridFS storage engine once the file is stored. */
        image?: ImageRecord;
      }
    }
  }
}

/**
 * Carries a storage failure through multer, which would otherwise deliver it looking
 * just like the multipart parser's own errors.
 */
export class StorageFailure extends Error {
  override readonly name = 'StorageFailure';
}

function passThroughMulter(error: unknown): unknown {
  return error instanceof AppError ? error : new StorageFailure('storing an upload failed', { cause: error });
}

/**
 * A multer storage engine that hands each part to the image service, which checks the
 * content as it streams into GridFS. multer-gridfs-storage pipes the raw part straight
 * into GridFS, which leaves no place to refuse a file by its bytes before it is stored.
 */
export function createGridFsStorageEngine(images: ImageService): StorageEngine {
  return {
    _handleFile(_req, file, callback) {
      images
        .store({ content: file.stream, filename: file.originalname })
        .then(
          (image) => callback(null, { image, size: image.size }),
          (error: unknown) => callback(passThroughMulter(error)),
        );
    },
    _removeFile(_req, file, callback) {
      if (!file.image) {
        callback(null);
        return;
      }
      images.discard(file.image.id).then(
        () => callback(null),
        (error: unknown) => callback(passThroughMulter(error) as Error),
      );
    },
  };
}
