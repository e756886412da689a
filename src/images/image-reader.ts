import type { Readable } from 'node:stream';
import { AppError } from '../errors/app-error';
import type { ByteRange } from './gridfs-chunk-stream';
import type { ImageCache } from './image-cache';
import type { ImageRecord, ImageRepository } from './image-repository';

export type ImageContent =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'stream'; readonly stream: Readable };

/** Reads images for delivery: small ones from memory once warm, large ones streamed from GridFS. */
export interface ImageReader {
  find(id: string): Promise<ImageRecord>;
  /** The whole image, or the bytes of `range`. */
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

export function createImageReader(repository: ImageRepository, cache: ImageCache): ImageReader {
  /** Concurrent first reads of one small image load it once. */
  const loadingBodies = new Map<string, Promise<Buffer>>();

  async function find(id: string): Promise<ImageRecord> {
    const cached = cache.getRecord(id);
    if (cached) return cached;
    const image = await repository.findById(id);
    if (!image) throw new AppError('image-not-found', `There is no image with id ${id}.`);
    cache.setRecord(image);
    return image;
  }

  function loadBody(image: ImageRecord): Promise<Buffer> {
    const pending = loadingBodies.get(image.id);
    if (pending) return pending;
    const loading = collect(repository.openContent(image))
      .then((body) => {
        cache.setBody(image.id, body);
        return body;
      })
      .finally(() => loadingBodies.delete(image.id));
    loadingBodies.set(image.id, loading);
    return loading;
  }

  async function readContent(image: ImageRecord, range?: ByteRange): Promise<ImageContent> {
    const cached = cache.getBody(image.id);
    if (cached) return { kind: 'bytes', bytes: slice(cached, range) };
    if (image.size <= cache.maxItemBytes) return { kind: 'bytes', bytes: slice(await loadBody(image), range) };
    return { kind: 'stream', stream: repository.openContent(image, range) };
  }

  return { find, readContent };
}
