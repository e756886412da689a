import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { AppError } from '../core/app-error';
import { createSingleFlight } from '../core/single-flight';
import { CorruptFileError, type ByteRange } from './gridfs/chunk-stream';
import type { ImageCache } from './image-cache';
import type { ImageRecord, ImageRepository } from './image-repository';

export type ImageContent =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'stream'; readonly stream: Readable };

/** Reads images for delivery: small ones from memory once warm, large ones streamed from GridFS. */
export interface ImageReader {
  find(id: string): Promise<ImageRecord>;
  /** The record if this instance holds it in memory, without waiting on anything: reads of hot images answer at once. */
  cachedRecord(id: string): ImageRecord | undefined;
  /** The record from the database, kept in memory after; for when `cachedRecord` had none. */
  load(id: string): Promise<ImageRecord>;
  /** The whole image, or the bytes of `range`; a stream is returned once its first bytes are there. */
  readContent(image: ImageRecord, range?: ByteRange): Promise<ImageContent>;
}

/**
 * Into a buffer of its own: Buffer.concat places small results in Node's shared 8 KiB pool,
 * and a cached icon would then keep a whole pool slab alive beyond what the cache counts.
 */
async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  const body = Buffer.allocUnsafeSlow(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) offset += part.copy(body, offset);
  return body;
}

function slice(body: Buffer, range: ByteRange | undefined): Buffer {
  return range ? body.subarray(range.start, range.end + 1) : body;
}

/** Where a reader finds records and bytes: the originals' repository, or the variants'. */
export type ImageSource = Pick<ImageRepository, 'findById' | 'openContent'>;

export function createImageReader(repository: ImageSource, cache: ImageCache): ImageReader {
  /** Concurrent first reads of one small image load it once. */
  const loadingBodies = createSingleFlight<Buffer>();

  const notFound = (id: string) => new AppError('image-not-found', `There is no image with id ${id}.`);

  async function load(id: string): Promise<ImageRecord> {
    const image = await repository.findById(id);
    if (!image) throw notFound(id);
    cache.setRecord(image);
    return image;
  }

  async function find(id: string): Promise<ImageRecord> {
    return cache.getRecord(id) ?? load(id);
  }

  function loadBody(image: ImageRecord): Promise<Buffer> {
    return loadingBodies.join(image.id, async () => {
      const body = await collect(repository.openContent(image));
      cache.setBody(image.id, body);
      return body;
    });
  }

  /**
   * A cached record outlives its image when another instance deletes it: chunks missing then
   * mean the image is gone, not that it is corrupt.
   */
  async function explainMissingChunks(image: ImageRecord, error: unknown): Promise<never> {
    if (error instanceof CorruptFileError && !(await repository.findById(image.id))) {
      cache.forget(image.id);
      throw notFound(image.id);
    }
    throw error;
  }

  async function openStream(image: ImageRecord, range?: ByteRange): Promise<Readable> {
    const stream = repository.openContent(image, range);
    await once(stream, 'readable').catch((error: unknown) => explainMissingChunks(image, error));
    return stream;
  }

  async function readContent(image: ImageRecord, range?: ByteRange): Promise<ImageContent> {
    const cached = cache.getBody(image.id);
    if (cached) return { kind: 'bytes', bytes: slice(cached, range) };
    if (image.size <= cache.maxItemBytes) {
      const body = await loadBody(image).catch((error: unknown) => explainMissingChunks(image, error));
      return { kind: 'bytes', bytes: slice(body, range) };
    }
    return { kind: 'stream', stream: await openStream(image, range) };
  }

  return { find, cachedRecord: (id) => cache.getRecord(id), load, readContent };
}
