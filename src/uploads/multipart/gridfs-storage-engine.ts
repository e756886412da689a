import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { AppError } from '../../core/app-error';
import type { ImageService, StoredImage } from '../image-service';

declare global {
  namespace Express {
    namespace Multer {
      interface File {
        /** Set by the GridFS storage engine once the file is stored. */
        stored?: StoredImage;
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

export interface GridFsStorage {
  readonly engine: StorageEngine;
  /**
   * Resolves once every file of the request has been stored, refused or removed. multer may
   * answer an error while a file is still being cleaned up; waiting here keeps the promise
   * that nothing of a failed request is left when its answer goes out.
   */
  settled(req: Request): Promise<void>;
}

/**
 * A multer storage engine that hands each part to the image service, which checks the
 * content as it streams into GridFS. multer-gridfs-storage pipes the raw part straight
 * into GridFS, which leaves no place to refuse a file by its bytes before it is stored.
 */
/** The name of the key that sent the request; undefined when no key is configured. */
export type OwnerOf = (req: Request) => string | undefined;

export function createGridFsStorage(images: ImageService, ownerOf: OwnerOf): GridFsStorage {
  const inFlight = new WeakMap<Request, Promise<unknown>[]>();

  function track(req: Request, work: Promise<unknown>): void {
    const list = inFlight.get(req) ?? [];
    list.push(work);
    inFlight.set(req, list);
  }

  async function settled(req: Request): Promise<void> {
    // Settling one file can start the removal of another, so look again until nothing is new.
    for (let seen = 0; ; ) {
      const list = inFlight.get(req) ?? [];
      if (list.length === seen) return;
      const batch = list.slice(seen);
      seen = list.length;
      await Promise.allSettled(batch);
    }
  }

  const engine: StorageEngine = {
    _handleFile(req, file, callback) {
      const storing = images.store({ content: file.stream, filename: file.originalname, owner: ownerOf(req) }).then(
        (stored) => callback(null, { stored, size: stored.image.size }),
        (error: unknown) => callback(passThroughMulter(error)),
      );
      track(req, storing);
    },
    _removeFile(req, file, callback) {
      const removed = file.stored ? images.discard(file.stored) : Promise.resolve();
      track(req, removed.then(() => callback(null)));
    },
  };
  return { engine, settled };
}
