import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError, isRefusal } from '../core/app-error';
import type { Logger } from '../core/logger';
import type { ImageCache } from '../storage/image-cache';
import { fileTooLarge, judgeHead, judgePixels, type RecognisedImage } from '../media/content-rules';
import { decodedSizeOf, headerMayUnderstate } from '../media/decoded-size';
import type { WorkLimiter } from '../core/work-limiter';
import { inspectHead, MAX_HEAD_BYTES, type HeadInspection, type ImageType } from '../media/image-inspection';
import type { ImageRecord, ImageRepository, ImageUpload } from '../storage/image-repository';
import { removeWithRetries } from '../storage/removal-retries';
import { storedFilename } from '../media/stored-filename';
import { createMetadataFilter, hasMetadataRules, keepEverything, type MetadataFilter } from '../media/metadata/metadata-filter';

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
  /** Bounds the stored files read whole at once to count their frames. */
  readonly inspections: WorkLimiter;
}

export interface IncomingImage {
  readonly content: Readable;
  readonly filename: string;
  /** The uploading key's name; undefined when no key is configured. */
  readonly owner: string | undefined;
}

export interface StoredImage {
  readonly image: ImageRecord;
  /** The bytes were already stored by the same owner: `image` is that earlier upload, and no second copy was kept. */
  readonly duplicate: boolean;
}

/** Bytes a resumable upload wrote into the bucket's chunks, every one of them there. */
export interface WrittenUpload {
  readonly id: string;
  readonly filename: string;
  readonly length: number;
  readonly chunkSize: number;
  /** The name of the key that created the upload; undefined when no key is configured. */
  readonly owner: string | undefined;
  /** Known when one process saw every byte go by; otherwise the stored bytes are read once more to hash them. */
  readonly sha256: string | undefined;
  /** What the first bytes showed when they went by; otherwise they are read back. */
  readonly head: HeadInspection | undefined;
}

/**
 * What the upload's own record does for its finish. With STRIP_METADATA the image is a copy
 * of the chunks under an id of its own, recorded before its first byte, so that a finish
 * retried after a crash takes up the copy an earlier one completed rather than leaving a
 * second image nobody was told of.
 */
export interface UploadLedger {
  /** The copy an earlier finish of this upload began, if one did. */
  readonly earlierCopyId: string | undefined;
  /** Records the id a copy is about to be written under. */
  recordCopy(id: string): Promise<void>;
  /** Marks the upload finished as this image: from then on its own chunks are no longer needed. */
  settle(image: ImageRecord): Promise<void>;
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
   * them an image, settled in the ledger before it resolves: the chunks themselves, or with
   * STRIP_METADATA a copy of them without their metadata, after which the chunks are removed.
   * Refused, they are removed; any other failure leaves them for a retry.
   */
  adopt(written: WrittenUpload, ledger: UploadLedger): Promise<StoredImage>;
}

type Chunks = AsyncIterator<Buffer>;

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

/** No head read ahead: a copy of stored chunks starts with the first. */
const NOTHING_YET = Buffer.alloc(0);

interface HashedImage {
  readonly image: ImageRecord;
  readonly sha256: string;
}

async function hashOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of stream) hash.update(part as Buffer);
  return hash.digest('hex');
}

export function createImageService(repository: ImageRepository, options: ImageServiceOptions): ImageService {
  const { maxFileSize, logger, cache, dedup, stripMetadata } = options;

  async function store({ content, filename: sent, owner }: IncomingImage): Promise<StoredImage> {
    const filename = storedFilename(sent);
    // Never destroy the source: a multipart parser waits for each part to be read to its end.
    const chunks: Chunks = content.iterator({ destroyOnReturn: false });
    const head = await readHead(chunks);
    const verdict = judgeHead(head.inspection, filename, options);
    if (verdict instanceof AppError) {
      await skipRest(chunks, content);
      throw verdict;
    }
    const { type, contentType, width, height } = verdict;
    const upload = repository.openUpload({ filename, contentType, width, height, owner });
    const filter = stripMetadata ? createMetadataFilter(type) : keepEverything;
    try {
      const sha256 = await copyAll(head.bytes, chunks, { upload, filter, maxFileSize });
      const image = await upload.finish({ sha256 });
      // Nobody knows its id yet: refused now, it is removed before anyone could read it.
      await confirmPixels(type, filename, () => repository.openContent(image));
      return dedup ? await keepOneCopy(image, sha256) : { image, duplicate: false };
    } catch (error) {
      await skipRest(chunks, content);
      await removeQuietly(upload.id);
      throw error;
    }
  }

  /**
   * Where the header may tell fewer pixels than decoding makes (frames, items), the stored file
   * is read back once to count them as the decoder will, and refused over MAX_PIXELS. A file the
   * decoder cannot read keeps the header's verdict: it is served as uploaded, never decoded.
   */
  async function confirmPixels(type: ImageType, filename: string, content: () => Readable): Promise<void> {
    if (!headerMayUnderstate(type)) return;
    const decoded = await options.inspections.run(() => decodedSizeOf(content()));
    const refusal = decoded && judgePixels(decoded, filename, options);
    if (refusal) throw refusal;
  }

  /**
   * The new file is complete before it claims its content, so the holder of a claim is always
   * readable; when it loses, the holder is answered instead. Claims are per owner: one key's
   * upload is never answered with another's image.
   */
  async function holderOf(image: ImageRecord, sha256: string): Promise<StoredImage> {
    const holderId = await repository.claimContent(image.owner, sha256, image.id);
    if (holderId === image.id) return { image, duplicate: false };
    const holder = await repository.findById(holderId);
    return holder ? { image: holder, duplicate: true } : { image, duplicate: false };
  }

  /** The file that loses the claim is removed. */
  async function keepOneCopy(image: ImageRecord, sha256: string): Promise<StoredImage> {
    const stored = await holderOf(image, sha256);
    if (stored.duplicate) await removeQuietly(image.id);
    return stored;
  }

  /** Never fails; what is left, the orphan sweep removes. */
  async function removeQuietly(id: string): Promise<void> {
    cache.forget(id);
    await removeWithRetries(() => repository.abandon(id), { what: 'an abandoned image', fields: { imageId: id } }, logger);
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
    await confirmPixels(verdict.type, written.filename, () => repository.openChunks(written));
    return verdict;
  }

  /**
   * The stored chunks through the metadata filter into a new file, hashed as it is written. The
   * chunks stay until the upload is settled, so a failure at any point leaves it whole for a
   * retry; a copy cut short has no file document, and the orphan sweep takes its chunks.
   */
  async function copyWithoutMetadata(written: WrittenUpload, verdict: RecognisedImage, ledger: UploadLedger): Promise<HashedImage> {
    const earlier = ledger.earlierCopyId === undefined ? null : await repository.findById(ledger.earlierCopyId);
    if (earlier?.sha256 !== undefined) return { image: earlier, sha256: earlier.sha256 };
    const { contentType, width, height } = verdict;
    const upload = repository.openUpload({ filename: written.filename, contentType, width, height, owner: written.owner });
    try {
      await ledger.recordCopy(upload.id);
      const chunks: Chunks = repository.openChunks(written).iterator();
      const filter = createMetadataFilter(verdict.type);
      const sha256 = await copyAll(NOTHING_YET, chunks, { upload, filter, maxFileSize });
      return { image: await upload.finish({ sha256 }), sha256 };
    } catch (error) {
      await removeQuietly(upload.id);
      throw error;
    }
  }

  async function recordInPlace(written: WrittenUpload, { contentType, width, height }: RecognisedImage): Promise<HashedImage> {
    const sha256 = written.sha256 ?? (await hashOf(repository.openChunks(written)));
    return { image: await repository.recordFile({ ...written, contentType, width, height, sha256 }), sha256 };
  }

  async function storeWritten(written: WrittenUpload, ledger: UploadLedger): Promise<StoredImage> {
    const verdict = await judgeStored(written);
    if (stripMetadata && hasMetadataRules(verdict.type)) {
      const { image, sha256 } = await copyWithoutMetadata(written, verdict, ledger);
      return dedup ? await keepOneCopy(image, sha256) : { image, duplicate: false };
    }
    const { image, sha256 } = await recordInPlace(written, verdict);
    // A duplicate is the upload's own chunks, which go only once it is settled.
    return dedup ? await holderOf(image, sha256) : { image, duplicate: false };
  }

  async function adopt(sent: WrittenUpload, ledger: UploadLedger): Promise<StoredImage> {
    const written = { ...sent, filename: storedFilename(sent.filename) };
    let stored: StoredImage;
    try {
      stored = await storeWritten(written, ledger);
      await ledger.settle(stored.image);
    } catch (error) {
      // A busy server (503) keeps the bytes sent, for the client's retry.
      if (isRefusal(error)) await removeQuietly(written.id);
      throw error;
    }
    // Until settled, a retry needs them; left behind now, they are swept once the upload's record expires.
    if (stored.image.id !== written.id) await removeQuietly(written.id);
    return stored;
  }

  const discard = async ({ image, duplicate }: StoredImage): Promise<void> => {
    if (!duplicate) await removeQuietly(image.id);
  };

  return { store, discard, adopt };
}
