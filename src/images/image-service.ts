import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { isDatabaseUnavailable } from '../database/database-errors';
import { AppError } from '../errors/app-error';
import type { Logger } from '../logger';
import type { ImageCache } from './image-cache';
import { inspectHead, MAX_HEAD_BYTES, type HeadInspection } from './image-inspection';
import type { ImageRecord, ImageRepository, ImageUpload } from './image-repository';

export interface ImageServiceOptions {
  readonly maxFileSize: number;
  readonly logger: Logger;
  /** Told of every image removed, so that no instance keeps serving it from memory. */
  readonly cache: Pick<ImageCache, 'forget'>;
}

export interface IncomingImage {
  readonly content: Readable;
  readonly filename: string;
}

export interface ImageService {
  /** Streams one image into storage; it is readable once this resolves, and nothing of it remains if it rejects. */
  store(incoming: IncomingImage): Promise<ImageRecord>;
  /** Removes an image stored by this request, when a later part of the request fails; never rejects. */
  discard(id: string): Promise<void>;
}

type Chunks = AsyncIterator<Buffer>;

const CLEANUP_RETRY_DELAYS_MS = [0, 500, 2000, 8000];

interface Head {
  readonly bytes: Buffer;
  readonly inspection: HeadInspection;
}

/**
 * Reads just enough of the start of the file to know what it is. The head is inspected again
 * only each time it has doubled, so a client sending it in tiny pieces cannot make the
 * parsing cost grow with the square of its size.
 */
async function readHead(chunks: Chunks): Promise<Head> {
  const parts: Buffer[] = [];
  let size = 0;
  let inspectAt = 0;
  for (;;) {
    const next = await chunks.next();
    if (!next.done) {
      parts.push(next.value);
      size += next.value.length;
    }
    if (next.done || size >= inspectAt) {
      const bytes = Buffer.concat(parts, size);
      const inspection = inspectHead(bytes, next.done === true);
      if (inspection.kind !== 'need-more-bytes') return { bytes, inspection };
      parts.splice(0, parts.length, bytes);
      inspectAt = Math.min(size * 2, MAX_HEAD_BYTES);
    }
  }
}

/** Lets the rest of a refused file flow past, so that the parser can move on to the next part. */
async function skipRest(chunks: Chunks, content: Readable): Promise<void> {
  await chunks.return?.();
  content.resume();
}

function fileTooLarge(maxFileSize: number): AppError {
  return new AppError('file-too-large', `Each file may be at most ${maxFileSize} bytes.`);
}

/** Writes every byte into the upload and returns their SHA-256, never holding more than one part. */
async function copyAll(head: Buffer, chunks: Chunks, upload: ImageUpload, maxFileSize: number): Promise<string> {
  const hash = createHash('sha256');
  let size = 0;
  for (let part: Buffer | undefined = head; part; part = await nextPart(chunks)) {
    size += part.length;
    if (size > maxFileSize) throw fileTooLarge(maxFileSize);
    hash.update(part);
    await upload.write(part);
  }
  return hash.digest('hex');
}

async function nextPart(chunks: Chunks): Promise<Buffer | undefined> {
  const next = await chunks.next();
  return next.done ? undefined : next.value;
}

export function createImageService(repository: ImageRepository, options: ImageServiceOptions): ImageService {
  const { maxFileSize, logger, cache } = options;

  async function store({ content, filename }: IncomingImage): Promise<ImageRecord> {
    // Never destroy the source: a multipart parser waits for each part to be read to its end.
    const chunks: Chunks = content.iterator({ destroyOnReturn: false });
    const head = await readHead(chunks);
    if (head.inspection.kind !== 'image') {
      await skipRest(chunks, content);
      const reason = head.inspection.kind === 'rejected' ? head.inspection.reason : '';
      throw new AppError('unsupported-image-type', `${filename}: ${reason} Accepted: JPEG, PNG, GIF, WebP, AVIF.`);
    }
    const upload = repository.openUpload({ filename, contentType: head.inspection.contentType });
    try {
      const sha256 = await copyAll(head.bytes, chunks, upload, maxFileSize);
      return await upload.finish({ sha256 });
    } catch (error) {
      await skipRest(chunks, content);
      await discard(upload.id);
      throw error;
    }
  }

  /**
   * Never fails. A busy database (FerretDB answers SQLITE_BUSY under load) gets a few more
   * tries; an unreachable one gets none, so that the client's answer is not held up. What is
   * left is logged with its id for someone to remove.
   */
  async function discard(id: string): Promise<void> {
    cache.forget(id);
    for (const [attempt, delayMs] of CLEANUP_RETRY_DELAYS_MS.entries()) {
      await sleep(delayMs);
      try {
        await repository.delete(id);
        return;
      } catch (error) {
        const givingUp = isDatabaseUnavailable(error) || attempt === CLEANUP_RETRY_DELAYS_MS.length - 1;
        logger.warn(
          { err: error, imageId: id, attempt: attempt + 1 },
          givingUp ? 'left an abandoned image in the database' : 'could not remove an abandoned image yet',
        );
        if (givingUp) return;
      }
    }
  }

  return { store, discard };
}
