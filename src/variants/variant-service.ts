import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../core/logger';
import type { ImageCache } from '../storage/image-cache';
import type { ImageRecord } from '../storage/image-repository';
import type { TransformationOutcome } from '../observability/metrics';
import type { ClientShares } from './client-shares';
import type { OriginalSources } from './original-sources';
import { checkOutputPixels, type SourceShape } from './output-cost';
import { abortReason } from '../core/shared-work';
import { createSingleFlight } from '../core/single-flight';
import type { WorkLimiter } from '../core/work-limiter';
import { OUTPUT_FORMATS, type ResolvedTransformation } from './transformation-resolution';
import { removeWithRetries } from '../storage/removal-retries';
import { variantKey, type VariantRepository, type VariantUpload } from '../storage/variant-repository';
import { shapeOf, transform } from './variant-transformer';

export interface VariantServiceOptions {
  readonly maxPixels: number;
  /** Pixels of a variant, all its frames counted, beyond which it is refused before it is made. */
  readonly maxOutputPixels: number;
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
  readonly limiter: WorkLimiter;
  /** Bounds each client's share of them. */
  readonly shares: ClientShares;
}

/** Whoever waits for a variant. */
export interface Requester {
  /** Whose share of the transformations the wait counts against. */
  readonly client: string;
  /** Aborts when the requester has gone: its wait ends, and work nobody waits for is dropped. */
  readonly signal: AbortSignal;
}

export interface VariantService {
  /** The variant's record if this instance holds it in memory, without waiting on anything. */
  cached(original: ImageRecord, transformation: ResolvedTransformation): ImageRecord | undefined;
  /**
   * The stored variant of `original`, for when `cached` had none: read, or made and stored now
   * if this is the first request for it. Concurrent first requests in this process share one
   * transformation, which is dropped before it starts once all of them have gone. Each wait
   * counts against its client's share until the work it waited on ends.
   */
  obtain(original: ImageRecord, transformation: ResolvedTransformation, requester: Requester): Promise<ImageRecord>;
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

/**
 * Originals that may hold more frames (pages, items) than one: an animated output format keeps
 * them all, so their number is read from the file before such a variant is judged.
 */
const MAY_HOLD_FRAMES: ReadonlySet<string> = new Set(['image/gif', 'image/webp', 'image/avif', 'image/tiff', 'image/x-icon']);

export function createVariantService(repository: VariantRepository, options: VariantServiceOptions): VariantService {
  const { maxPixels, maxOutputPixels, maxVariantsPerImage, logger, cache, sources, onTransformation, limiter, shares } = options;
  /** Concurrent first requests for one variant in this process share one transformation. */
  const making = createSingleFlight<ImageRecord>();

  /** Never fails; what is left, the variant sweep removes. */
  function removeQuietly(fileId: string): Promise<void> {
    return removeWithRetries(() => repository.abandon(fileId), { what: 'an abandoned variant file', fields: { fileId } }, logger);
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
   * file that loses the claim is removed and the winner answered instead, from the bytes made
   * here, which are cached as the winner's.
   */
  async function store(
    original: ImageRecord,
    transformation: ResolvedTransformation,
    source: Buffer,
  ): Promise<{ stored: ImageRecord; made: boolean }> {
    const { format, canonical: params } = transformation;
    let upload: VariantUpload | undefined;
    try {
      const variant = await transform(source, transformation, { maxPixels });
      const { contentType } = OUTPUT_FORMATS[format];
      upload = repository.openUpload({ originalId: original.id, params, filename: variantFilename(original, transformation), contentType });
      await pipeline(Readable.from([variant.bytes]), upload.stream);
      const sha256 = createHash('sha256').update(variant.bytes).digest('hex');
      const stored = await upload.claim({ width: variant.width, height: variant.height, sha256, entityTag: variantEntityTag(original, params) });
      const outcome = stored.fileId === upload.fileId ? 'stored' : 'duplicate';
      // The winner's bytes are these bytes (one key, one result), so this answer is sent from
      // memory even when another instance's MAX_VARIANTS_PER_IMAGE removes the stored copy meanwhile.
      if (stored.sha256 === sha256) cache.setBody(stored.id, variant.bytes);
      if (outcome === 'duplicate') await removeQuietly(upload.fileId);
      onTransformation(format, outcome);
      return { stored, made: outcome === 'stored' };
    } catch (error) {
      onTransformation(format, 'failed');
      if (upload) await removeQuietly(upload.fileId);
      throw error;
    }
  }

  /** Whoever stored the variant makes room for it; a copy that lost the claim changed nothing. */
  /**
   * `judged`: its size was judged from the stored width and height already; if not, it is
   * judged here, from the file's structure, before a pixel is decoded.
   */
  async function make(original: ImageRecord, transformation: ResolvedTransformation, judged: boolean): Promise<ImageRecord> {
    const source = await sources.read(original);
    const shape = judged ? undefined : await shapeOf(source);
    // One sharp cannot read fails in `transform`, as it would have.
    if (shape) checkOutputPixels(shape, transformation, maxOutputPixels);
    const { stored, made } = await store(original, transformation, source);
    if (made) await makeRoom(original, stored);
    return stored;
  }

  /**
   * The original as its stored width and height tell it, when they are enough: one frame is made
   * of it. Undefined when an animated variant is asked of an original that may have frames, or
   * the original was stored without its size: the file must be read for them.
   */
  function storedShape(original: ImageRecord, transformation: ResolvedTransformation): SourceShape | undefined {
    const { width, height, contentType } = original;
    if (OUTPUT_FORMATS[transformation.format].animated && MAY_HOLD_FRAMES.has(contentType)) return undefined;
    return width !== undefined && width > 0 && height !== undefined && height > 0 ? { width, height, frames: 1 } : undefined;
  }

  /**
   * Judged before it queues where the stored size tells enough, so that a variant too large
   * costs no turn. Where the file must be read, that is done in its turn, so that the originals
   * held whole stay bounded by TRANSFORM_CONCURRENCY, and still before any pixel is decoded.
   */
  async function makeInTurn(original: ImageRecord, transformation: ResolvedTransformation, nobodyWaits: AbortSignal) {
    try {
      nobodyWaits.throwIfAborted();
      const shape = storedShape(original, transformation);
      if (shape) checkOutputPixels(shape, transformation, maxOutputPixels);
      return await limiter.run(() => make(original, transformation, shape !== undefined), nobodyWaits);
    } catch (error) {
      if (nobodyWaits.aborted && error === abortReason(nobodyWaits)) onTransformation(transformation.format, 'abandoned');
      throw error;
    }
  }

  async function findOrMake(original: ImageRecord, transformation: ResolvedTransformation, key: string, nobodyWaits: AbortSignal) {
    const variant = (await repository.findById(key)) ?? (await makeInTurn(original, transformation, nobodyWaits));
    cache.setRecord(variant);
    return variant;
  }

  async function obtain(original: ImageRecord, transformation: ResolvedTransformation, { client, signal }: Requester) {
    const giveBack = shares.take(client);
    const key = variantKey(original.id, transformation.canonical);
    const work = making.workFor(key, (nobodyWaits) => findOrMake(original, transformation, key, nobodyWaits));
    void work.ended.then(giveBack);
    return work.join(signal);
  }

  return {
    cached: (original, transformation) => cache.getRecord(variantKey(original.id, transformation.canonical)),
    obtain,
  };
}
