import { LRUCache } from 'lru-cache';
import { createSingleFlight } from '../core/single-flight';
import type { Clock } from '../core/clock';
import { CorruptFileError } from '../storage/gridfs/chunk-stream';
import type { ImageReader } from '../storage/image-reader';
import type { ImageRecord } from '../storage/image-repository';

export interface OriginalSourcesOptions {
  /** The budget for originals kept whole; 0 reads each one from the database every time. */
  readonly maxBytes: number;
  /** As the image cache's: how long a deleted original may still be transformed here. */
  readonly ttlSeconds: number;
  /** What the time to live is measured by. */
  readonly clock: Clock;
}

/**
 * Originals whole in memory, as sharp needs them, for the transformations of one image that
 * follow each other: a page asks several sizes of a new image at once (`srcset`), and each
 * would read the same megabytes from the database again. Concurrent reads of one original
 * share one read, whatever the budget.
 */
export interface OriginalSources {
  read(original: ImageRecord): Promise<Buffer>;
  forget(id: string): void;
}

type Originals = Pick<ImageReader, 'readContent'>;

/**
 * The original whole, in one buffer of its exact size: sharp needs it whole before it decodes
 * anything, and gathering the chunks here holds it once, where a stream into sharp holds the
 * chunks and then their concatenation.
 */
async function readWhole(originals: Originals, original: ImageRecord): Promise<Buffer> {
  const content = await originals.readContent(original);
  if (content.kind === 'bytes') return content.bytes;
  const bytes = Buffer.allocUnsafe(original.size);
  let filled = 0;
  for await (const part of content.stream) filled += (part as Buffer).copy(bytes, filled);
  if (filled !== original.size) throw new CorruptFileError(`image ${original.id} gave ${filled} of its ${original.size} bytes`);
  return bytes;
}

/** `originals` reads through the image cache, which holds small bodies already. */
export function createOriginalSources(originals: Originals, options: OriginalSourcesOptions): OriginalSources {
  const kept =
    options.maxBytes > 0
      ? new LRUCache<string, Buffer>({
          maxSize: options.maxBytes,
          sizeCalculation: (bytes) => bytes.length,
          ttl: options.ttlSeconds * 1000,
          perf: { now: options.clock },
          ttlResolution: 0,
        })
      : undefined;
  const reading = createSingleFlight<Buffer>();

  function readOnce(original: ImageRecord): Promise<Buffer> {
    return reading.join(original.id, async () => {
      const bytes = await readWhole(originals, original);
      // An original larger than the whole budget is not kept; lru-cache ignores it.
      kept?.set(original.id, bytes);
      return bytes;
    });
  }

  return {
    read: (original) => {
      const bytes = kept?.get(original.id);
      return bytes ? Promise.resolve(bytes) : readOnce(original);
    },
    forget: (id) => {
      kept?.delete(id);
    },
  };
}
