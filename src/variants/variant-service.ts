import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MongoError } from 'mongodb';
import type { Logger } from '../logger';
import { CorruptFileError } from '../images/gridfs-chunk-stream';
import type { ImageCache } from '../images/image-cache';
import type { ImageReader } from '../images/image-reader';
import type { ImageRecord } from '../images/image-repository';
import type { TransformationOutcome } from '../observability/metrics';
import type { TransformationLimiter } from './transformation-limiter';
import { OUTPUT_FORMATS, type ResolvedTransformation } from './transformation-resolution';
import { variantKey, type VariantRepository } from './variant-repository';
import { createTransformer, explainTransformationError, transformedFacts, watchFailure } from './variant-transformer';

export interface VariantServiceOptions {
  readonly maxPixels: number;
  readonly logger: Logger;
  readonly cache: Pick<ImageCache, 'getRecord' | 'setRecord'>;
  /** Reads originals, through the cache. */
  readonly originals: Pick<ImageReader, 'readContent'>;
  readonly onTransformation: (format: string, outcome: TransformationOutcome) => void;
  /** Bounds the transformations running and waiting in this process. */
  readonly limiter: TransformationLimiter;
}

export interface VariantService {
  /**
   * The stored variant of `original`, made and stored now if this is the first request for
   * it. Concurrent first requests in this process share one transformation.
   */
  obtain(original: ImageRecord, transformation: ResolvedTransformation): Promise<ImageRecord>;
}

/** A failure of the database, passed on to sharp when the original's stream broke. */
function isDatabaseError(error: unknown): boolean {
  return error instanceof MongoError || error instanceof CorruptFileError;
}

/** The name a saved variant gets: the original's, with the extension of what it now is. */
function variantFilename(original: ImageRecord, transformation: ResolvedTransformation): string {
  const stem = original.filename.replace(/\.[^.]*$/, '');
  return `${stem === '' ? 'image' : stem}.${transformation.format === 'jpeg' ? 'jpg' : transformation.format}`;
}

/** Strong and the same on every instance: from the original's content and the canonical parameters. */
function variantEntityTag(original: ImageRecord, params: string): string {
  return createHash('sha256').update(`${original.entityTag}?${params}`).digest('hex');
}

function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

async function openOriginal(originals: VariantServiceOptions['originals'], original: ImageRecord): Promise<Readable> {
  const content = await originals.readContent(original);
  return content.kind === 'bytes' ? Readable.from([content.bytes]) : content.stream;
}

export function createVariantService(repository: VariantRepository, options: VariantServiceOptions): VariantService {
  const { maxPixels, logger, cache, originals, onTransformation, limiter } = options;
  const inFlight = new Map<string, Promise<ImageRecord>>();

  async function removeQuietly(fileId: string): Promise<void> {
    try {
      await repository.removeFile(fileId);
    } catch (error) {
      logger.warn({ err: error, fileId }, 'left a variant file in the database; the orphan sweep removes it');
    }
  }

  /**
   * The file is complete before it is claimed, so a claimed variant is always readable; the
   * file that loses the claim is removed and the winner answered instead.
   */
  async function make(original: ImageRecord, transformation: ResolvedTransformation): Promise<ImageRecord> {
    const { format, canonical: params } = transformation;
    const filename = variantFilename(original, transformation);
    const { contentType } = OUTPUT_FORMATS[format];
    const upload = repository.openUpload({ originalId: original.id, params, filename, contentType });
    const transformer = createTransformer(transformation, { maxPixels });
    const facts = transformedFacts(transformer);
    const sharpFailure = watchFailure(transformer);
    const hash = createHash('sha256');
    try {
      await pipeline(await openOriginal(originals, original), transformer, hashing(hash), upload.stream);
      const stored = await upload.claim({
        ...(await facts),
        sha256: hash.digest('hex'),
        entityTag: variantEntityTag(original, params),
      });
      const outcome = stored.fileId === upload.fileId ? 'stored' : 'duplicate';
      if (outcome === 'duplicate') await removeQuietly(upload.fileId);
      onTransformation(format, outcome);
      return stored;
    } catch (error) {
      onTransformation(format, 'failed');
      await removeQuietly(upload.fileId);
      const failure = sharpFailure();
      throw explainTransformationError(error, failure !== undefined && failure === error && !isDatabaseError(error), maxPixels);
    }
  }

  async function findOrMake(original: ImageRecord, transformation: ResolvedTransformation, key: string) {
    const variant = (await repository.findById(key)) ?? (await limiter.run(() => make(original, transformation)));
    cache.setRecord(variant);
    return variant;
  }

  function obtain(original: ImageRecord, transformation: ResolvedTransformation): Promise<ImageRecord> {
    const key = variantKey(original.id, transformation.canonical);
    const cached = cache.getRecord(key);
    if (cached) return Promise.resolve(cached);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = findOrMake(original, transformation, key).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  return { obtain };
}
