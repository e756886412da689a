import type { Readable } from 'node:stream';
import { AppError } from '../errors/app-error';
import type { Logger } from '../logger';
import { inspectHead, type HeadInspection } from './image-inspection';
import type { ImageRecord, ImageRepository, ImageUpload } from './image-repository';

export interface ImageServiceOptions {
  readonly maxFileSize: number;
  readonly logger: Logger;
}

export interface IncomingImage {
  readonly content: Readable;
  readonly filename: string;
}

export interface ImageService {
  /** Streams one image into storage; it is readable once this resolves, and nothing of it remains if it rejects. */
  store(incoming: IncomingImage): Promise<ImageRecord>;
  /** Removes an image stored by this request, when a later part of the request fails. */
  discard(id: string): Promise<void>;
  find(id: string): Promise<ImageRecord>;
  openContent(image: ImageRecord): Readable;
}

type Chunks = AsyncIterator<Buffer>;

interface Head {
  readonly bytes: Buffer;
  readonly inspection: HeadInspection;
}

/** Reads just enough of the start of the file to know what it is. */
async function readHead(chunks: Chunks): Promise<Head> {
  const parts: Buffer[] = [];
  for (;;) {
    const next = await chunks.next();
    if (!next.done) parts.push(next.value);
    const bytes = Buffer.concat(parts);
    const inspection = inspectHead(bytes, next.done === true);
    if (inspection.kind !== 'need-more-bytes') return { bytes, inspection };
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

async function copyRest(chunks: Chunks, upload: ImageUpload, written: number, maxFileSize: number): Promise<void> {
  let size = written;
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
    size += next.value.length;
    if (size > maxFileSize) throw fileTooLarge(maxFileSize);
    await upload.write(next.value);
  }
}

export function createImageService(repository: ImageRepository, options: ImageServiceOptions): ImageService {
  const { maxFileSize, logger } = options;

  async function abandon(upload: ImageUpload): Promise<void> {
    try {
      await upload.abort();
    } catch (error) {
      logger.warn({ err: error, imageId: upload.id }, 'could not delete the chunks of an abandoned upload');
    }
  }

  async function store({ content, filename }: IncomingImage): Promise<ImageRecord> {
    // Never destroy the source: a multipart parser waits for each part to be read to its end.
    const chunks: Chunks = content.iterator({ destroyOnReturn: false });
    const head = await readHead(chunks);
    if (head.inspection.kind !== 'image') {
      await skipRest(chunks, content);
      const reason = head.inspection.kind === 'rejected' ? head.inspection.reason : '';
      throw new AppError('unsupported-image-type', `${filename}: ${reason} Accepted: JPEG, PNG, GIF, WebP, AVIF.`);
    }
    if (head.bytes.length > maxFileSize) {
      await skipRest(chunks, content);
      throw fileTooLarge(maxFileSize);
    }

    const upload = repository.openUpload({ filename, contentType: head.inspection.contentType });
    try {
      await upload.write(head.bytes);
      await copyRest(chunks, upload, head.bytes.length, maxFileSize);
      return await upload.finish();
    } catch (error) {
      await skipRest(chunks, content);
      await abandon(upload);
      throw error;
    }
  }

  async function find(id: string): Promise<ImageRecord> {
    const image = await repository.findById(id);
    if (!image) throw new AppError('image-not-found', `There is no image with id ${id}.`);
    return image;
  }

  return {
    store,
    discard: (id) => repository.delete(id),
    find,
    openContent: (image) => repository.openContent(image),
  };
}
