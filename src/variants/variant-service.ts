import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../logger';
import type { ImageCache } from '../images/image-cache';
import type { ImageRecord } from '../images/image-repository';
import type { TransformationOutcome } from '../observability/metrics';
import type { OriginalSources } from './original-sources';
import type { TransformationLimiter } from './transformation-limiter';
import { OUTPUT_FORMATS, type ResolvedTransformation } from './transformation-resolution';
import { variantKey, type VariantRepository, type VariantUpload } from './variant-repository';
import { transform } from './variant-transformer';

export interface VariantServiceOptions {
  readonly maxPixels: number;
  /** Variants kept of one original: storing one more removes the ones made longest ago. */
  readonly maxVariantsPerImage: number;
  readonly logger: Logger;
  /**
   * A variant made here goes into it whole, so that its first answer needs no read back;
   * those removed to make room leave it.
   */
  readonly cache: Pick<ImageCache, 'getRecord' | 'setRecord' | 'setBody' | 'forget'>;
  /** Originals whole, as sharp takes them. */
  readonly sources: Pick<OriginalSources, 'read'>;
  readonly onTransformation: (format: string, outcome: TransformationOutcome) => void;
  /** Bounds the transformations running and waiting in this process. */
  readonly limiter: TransformationLimiter;
}

export interface VariantService {
  /** The variant's record if this instance holds it in memory, without waiting on anything. */
  cached(original: ImageRecord, transformation: ResolvedTransformation): ImageRecord | undefined;
  /**
   * The stored variant of `original`, for when `cached` had none: read, or made and stored now
   * if this is the first request for it. Concurrent first requests in this process share one
   * transformation.
   */
  obtain(original: ImageRecord, transformation: ResolvedTransformation): Promise<ImageRecord>;
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

export function createVariantService(repository: VariantRepository, options: VariantServiceOptions): VariantService {
  const { maxPixels, maxVariantsPerImage, logger, cache, sources, onTransformation, limiter } = options;
  const inFlight = new Map<string, Promise<ImageRecord>>();

  async function removeQuietly(fileId: string): Promise<void> {
    try {
      await repository.removeFile(fileId);
    } catch (error) {
      logger.warn({ err: error, fileId }, 'left a variant file in the database; the orphan sweep removes it');
    }
  }

  /**
   * After the claim, so that concurrent makers on any instance count what the database holds
   * and remove the same ones; the one just made stays, as its answer is on its way.
   */
  async function makeRoom(original: ImageRecord, made: ImageRecord): Promise<void> {
    try {
      const removed = await repository.keepNewest(original.id, maxVariantsPerImage, made.id);
      for (const key of removed) cache.forget(key);
      if (removed.length > 0) {
        logger.info({ imageId: original.id, removed: removed.length }, 'removed the variants made longest ago (MAX_VARIANTS_PER_IMAGE)');
      }
    } catch (error) {
      logger.warn({ err: error, imageId: original.id }, 'kept more variants than MAX_VARIANTS_PER_IMAGE; the next one made removes them');
    }
  }

  /**
   * The file is complete before it is claimed, so a claimed variant is always readable; the
   * file that loses the claim is removed and the winner answered instead. The winner made here
   * is cached with its bytes, so its first answer is sent from memory.
   */
  async function store(original: ImageRecord, transformation: ResolvedTransformation): Promise<{ stored: ImageRecord; made: boolean }> {
    const { format, canonical: params } = transformation;
    let upload: VariantUpload | undefined;
    try {
      const variant = await transform(await sources.read(original), transformation, { maxPixels });
      const { contentType } = OUTPUT_FORMATS[format];
      upload = repository.openUpload({ originalId: original.id, params, filename: variantFilename(original, transformation), contentType });
      await pipeline(Readable.from([variant.bytes]), upload.stream);
      const stored = await upload.claim({
        width: variant.width,
        height: variant.height,
        sha256: createHash('sha256').update(variant.bytes).digest('hex'),
        entityTag: variantEntityTag(original, params),
      });
      const outcome = stored.fileId === upload.fileId ? 'stored' : 'duplicate';
      if (outcome === 'stored') cache.setBody(stored.id, variant.bytes);
      else await removeQuietly(upload.fileId);
      onTransformation(format, outcome);
      return { stored, made: outcome === 'stored' };
    } catch (error) {
      onTransformation(format, 'failed');
      if (upload) await removeQuietly(upload.fileId);
      throw error;
    }
  }

  /** Whoever stored the variant makes room for it; a copy that lost the claim changed nothing. */
  async function make(original: ImageRecord, transformation: ResolvedTransformation): Promise<ImageRecord> {
    const { stored, made } = await store(original, transformation);
    if (made) await makeRoom(original, stored);
    return stored;
  }

  async function findOrMake(original: ImageRecord, transformation: ResolvedTransformation, key: string) {
    const variant = (await repository.findById(key)) ?? (await limiter.run(() => make(original, transformation)));
    cache.setRecord(variant);
    return variant;
  }

  function obtain(original: ImageRecord, transformation: ResolvedTransformation): Promise<ImageRecord> {
    const key = variantKey(original.id, transformation.canonical);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = findOrMake(original, transformation, key).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  return {
    cached: (original, transformation) => cache.getRecord(variantKey(original.id, transformation.canonical)),
    obtain,
  };
}
