import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { isDatabaseUnavailable } from '../database/database-errors';
import { AppError } from '../errors/app-error';
import type { Logger } from '../logger';
import type { ImageCache } from './image-cache';
import { fileTooLarge, judgeHead, type RecognisedImage } from './content-rules';
import { inspectHead, MAX_HEAD_BYTES, type HeadInspection, type ImageType } from './image-inspection';
import type { ImageRecord, ImageRepository, ImageUpload } from './image-repository';
import { createMetadataFilter, keepEverything, type MetadataFilter } from './metadata/metadata-filter';

export interface ImageServiceOptions {
  readonly maxFileSize: number;
  readonly allowedTypes: readonly ImageType[];
  readonly maxPixels: number;
  /** Keep one copy of each content: a later upload of the same bytes gets the first one's id. */
  readonly dedup: boolean;
  /** Store images without their EXIF, XMP and comments, keeping ICC profile and orientation. */
  readonly stripMetadata: boolean;
  readonly logger: Logger;
  /** Told of every image removed, so that no instance keeps serving it from memory. */
  readonly cache: Pick<ImageCache, 'forget'>;
}

export interface IncomingImage {
  readonly content: Readable;
  readonly filename: string;
}

export interface StoredImage {
  readonly image: ImageRecord;
  /** The bytes were already stored: `image` is that earlier upload, and no second copy was kept. */
  readonly duplicate: boolean;
}

/** Bytes a resumable upload wrote into the bucket's chunks, every one of them there. */
export interface WrittenUpload {
  readonly id: string;
  readonly filename: string;
  readonly length: number;
  readonly chunkSize: number;
  /** Known when one process saw every byte go by; otherwise the stored bytes are read once more to hash them. */
  readonly sha256: string | undefined;
  /** What the first bytes showed when they went by; otherwise they are read back. */
  readonly head: HeadInspection | undefined;
}

export interface ImageService {
  /** Streams one image into storage; it is readable once this resolves, and nothing of it remains if it rejects. */
  store(incoming: IncomingImage): Promise<StoredImage>;
  /**
   * Takes back an image stored by this request, when a later part of the request fails; never
   * rejects. A duplicate stays: it belongs to the earlier upload.
   */
  discard(stored: StoredImage): Promise<void>;
  /**
   * Checks chunks already written by a resumable upload by the same rules as `store`, and makes
   * them an image. Refused, they are removed; any other failure leaves them for a retry.
   */
  adopt(written: WrittenUpload): Promise<StoredImage>;
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

interface Copy {
  readonly upload: ImageUpload;
  readonly filter: MetadataFilter;
  readonly maxFileSize: number;
}

/**
 * Writes what the filter lets through into the upload and returns its SHA-256, never holding
 * more than one part and one metadata segment. The size limit counts the bytes received.
 */
async function copyAll(head: Buffer, chunks: Chunks, { upload, filter, maxFileSize }: Copy): Promise<string> {
  const hash = createHash('sha256');
  const store = async (pieces: Buffer[]): Promise<void> => {
    for (const piece of pieces) {
      hash.update(piece);
      await upload.write(piece);
    }
  };
  let size = 0;
  for (let part: Buffer | undefined = head; part; part = await nextPart(chunks)) {
    size += part.length;
    if (size > maxFileSize) throw fileTooLarge(maxFileSize);
    await store(filter.push(part));
  }
  await store(filter.end());
  return hash.digest('hex');
}

async function nextPart(chunks: Chunks): Promise<Buffer | undefined> {
  const next = await chunks.next();
  return next.done ? undefined : next.value;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function hashOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of stream) hash.update(part as Buffer);
  return hash.digest('hex');
}

export function createImageService(repository: ImageRepository, options: ImageServiceOptions): ImageService {
  const { maxFileSize, logger, cache, dedup, stripMetadata } = options;

  async function store({ content, filename }: IncomingImage): Promise<StoredImage> {
    // Never destroy the source: a multipart parser waits for each part to be read to its end.
    const chunks: Chunks = content.iterator({ destroyOnReturn: false });
    const head = await readHead(chunks);
    const verdict = judgeHead(head.inspection, filename, options);
    if (verdict instanceof AppError) {
      await skipRest(chunks, content);
      throw verdict;
    }
    const { type, contentType, width, height } = verdict;
    const upload = repository.openUpload({ filename, contentType, width, height });
    const filter = stripMetadata ? createMetadataFilter(type) : keepEverything;
    try {
      const sha256 = await copyAll(head.bytes, chunks, { upload, filter, maxFileSize });
      const image = await upload.finish({ sha256 });
      return dedup ? await keepOneCopy(image, sha256) : { image, duplicate: false };
    } catch (error) {
      await skipRest(chunks, content);
      await removeQuietly(upload.id);
      throw error;
    }
  }

  /**
   * The new file is complete before it claims its content, so the holder of a claim is always
   * readable; the file that loses the claim is removed and the holder answered instead.
   */
  async function keepOneCopy(image: ImageRecord, sha256: string): Promise<StoredImage> {
    const holderId = await repository.claimContent(sha256, image.id);
    if (holderId === image.id) return { image, duplicate: false };
    const holder = await repository.findById(holderId);
    if (!holder) return { image, duplicate: false };
    await removeQuietly(image.id);
    return { image: holder, duplicate: true };
  }

  /**
   * Never fails. A busy database (FerretDB answers SQLITE_BUSY under load) gets a few more
   * tries; an unreachable one gets none, so that the client's answer is not held up. What is
   * left is logged with its id, and the orphan sweeper removes it later.
   */
  async function removeQuietly(id: string): Promise<void> {
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

  /** The head is read from the chunks in one go: the client, not we, decided how it was split. */
  async function inspectStored(written: WrittenUpload): Promise<HeadInspection> {
    if (written.head) return written.head;
    const headLength = Math.min(written.length, MAX_HEAD_BYTES);
    const head = headLength === 0 ? Buffer.alloc(0) : await collect(repository.openChunks(written, { start: 0, end: headLength - 1 }));
    return inspectHead(head, written.length === headLength);
  }

  async function judgeStored(written: WrittenUpload): Promise<RecognisedImage> {
    const verdict = judgeHead(await inspectStored(written), written.filename, options);
    if (verdict instanceof AppError) throw verdict;
    if (written.length > maxFileSize) throw fileTooLarge(maxFileSize);
    return verdict;
  }

  async function adopt(written: WrittenUpload): Promise<StoredImage> {
    try {
      const { contentType, width, height } = await judgeStored(written);
      const sha256 = written.sha256 ?? (await hashOf(repository.openChunks(written)));
      const image = await repository.recordFile({ ...written, contentType, width, height, sha256 });
      return dedup ? await keepOneCopy(image, sha256) : { image, duplicate: false };
    } catch (error) {
      if (error instanceof AppError) await removeQuietly(written.id);
      throw error;
    }
  }

  const discard = async ({ image, duplicate }: StoredImage): Promise<void> => {
    if (!duplicate) await removeQuietly(image.id);
  };

  return { store, discard, adopt };
}
