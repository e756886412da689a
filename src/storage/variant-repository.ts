import type { Readable, Writable } from 'node:stream';
import { GridFSBucket, ObjectId, type Collection, type Db, type Filter, type GridFSFile } from 'mongodb';
import { openChunkStream, type ByteRange, type ChunkDocument } from './gridfs/chunk-stream';
import { batchesOf } from '../core/batches';
import type { PendingWrites } from '../core/pending-writes';
import { createOpenUploads, type OpenUploads } from './gridfs/open-uploads';
import { findOrphans, IDS_PER_BATCH } from './gridfs/orphans';
import { claimUniqueId } from './gridfs/unique-claim';
import type { ImageRecord } from './image-repository';

/**
 * Variants live apart from originals, in the GridFS bucket `<bucket>.variants` (collections
 * `<bucket>.variants.files` and `.chunks`), so the listing, the original lookups and the
 * orphan sweep of originals never meet them. The collection `<bucket>.variants` is their
 * index: one document per variant, its `_id` the variant's key, so that the `_id` index
 * lets one copy of each variant be claimed, on any database (no partial index needed).
 */
interface VariantDocument {
  /** `<original id>:<canonical parameters>`. */
  _id: string;
  originalId: ObjectId;
  params: string;
  fileId: ObjectId;
  filename: string;
  contentType: string;
  size: number;
  chunkSize: number;
  uploadDate: Date;
  sha256: string;
  width: number;
  height: number;
  entityTag: string;
}

export interface NewVariant {
  readonly originalId: string;
  /** The canonical parameters, as a query string. */
  readonly params: string;
  readonly filename: string;
  readonly contentType: string;
}

export interface VariantFacts {
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  readonly entityTag: string;
}

/**
 * A variant being written; nobody finds it until it is claimed. Undone with `abandon(fileId)`,
 * whatever state it reached; until it wins its claim or is abandoned, it is a pending write.
 */
export interface VariantUpload {
  readonly fileId: string;
  /** Takes the variant's bytes; the file is complete once it has finished. */
  readonly stream: Writable;
  /**
   * Makes the finished file the stored variant for its key, unless another file already is;
   * resolves to the stored one. The `_id` index decides between concurrent claims.
   */
  claim(facts: VariantFacts): Promise<ImageRecord>;
}

export interface StoredVariant {
  readonly params: string;
  readonly record: ImageRecord;
}

/** Where a page of an original's variants starts: after the variant made at `uploadDate` with `params`. */
export interface VariantPosition {
  readonly uploadDate: Date;
  readonly params: string;
}

export interface VariantRepository {
  /** By the variant's key, `<original id>:<canonical parameters>`: the id of its record. */
  findById(key: string): Promise<ImageRecord | null>;
  openUpload(variant: NewVariant): VariantUpload;
  openContent(variant: ImageRecord, range?: ByteRange): Readable;
  /** Up to `limit` stored variants of an original, oldest first, after `after` when given. */
  listOf(originalId: string, limit: number, after?: VariantPosition): Promise<StoredVariant[]>;
  /** What the maker of a variant file does when it gives up on it: the file, its chunks and any claim on it go. */
  abandon(fileId: string): Promise<void>;
  /** Removes variant files and their chunks, claimed or not, and any claim that points at them; three queries per 500. */
  removeFiles(fileIds: readonly string[]): Promise<void>;
  /**
   * Removes every variant of an original, four queries per 500 whatever their number (a find,
   * then the claims, files and chunks by id); resolves to their keys.
   */
  removeAllOf(originalId: string): Promise<string[]>;
  /**
   * Removes the variants of an original beyond the `count` made last, `keep` being one of
   * those whatever its date; resolves to the keys removed. The database decides, so
   * instances that trim the same original at once remove the same ones.
   */
  keepNewest(originalId: string, count: number, keep: string): Promise<string[]>;
  /**
   * Files to remove: those of variants whose original is gone, those never claimed (their
   * maker stopped between writing and claiming), and chunks without a file; the last two only
   * when written before `olderThan` and not being written by this process.
   */
  findLeftovers(olderThan: Date): Promise<string[]>;
}

export function variantKey(originalId: string, params: string): string {
  return `${originalId}:${params}`;
}

function toRecord(document: VariantDocument): ImageRecord {
  return {
    id: document._id,
    fileId: document.fileId.toHexString(),
    filename: document.filename,
    contentType: document.contentType,
    size: document.size,
    uploadDate: document.uploadDate,
    sha256: document.sha256,
    width: document.width,
    height: document.height,
    chunkSize: document.chunkSize,
    entityTag: document.entityTag,
  };
}

export interface VariantCollections {
  /** The files of the originals, to know which are gone. */
  readonly originals: Collection<GridFSFile>;
  readonly bucket: GridFSBucket;
  readonly files: Collection<GridFSFile>;
  readonly chunks: Collection<ChunkDocument>;
  readonly variants: Collection<VariantDocument>;
}

export function variantCollections(db: Db, bucketName: string): VariantCollections {
  const name = `${bucketName}.variants`;
  return {
    originals: db.collection<GridFSFile>(`${bucketName}.files`),
    bucket: new GridFSBucket(db, { bucketName: name }),
    files: db.collection<GridFSFile>(`${name}.files`),
    chunks: db.collection<ChunkDocument>(`${name}.chunks`),
    variants: db.collection<VariantDocument>(name),
  };
}

/** The order of an original's variants, oldest first; the key breaks ties within a millisecond. */
const OLDEST_FIRST_OF_ORIGINAL = { originalId: 1, uploadDate: 1, _id: 1 } as const;
const NEWEST_FIRST = { uploadDate: -1, _id: -1 } as const;

/**
 * Indexes beyond `_id` and GridFS's own; run once at start-up, harmless to repeat. One call
 * per index: FerretDB 1.24 crashes on a createIndexes of several that all exist.
 */
export async function ensureVariantIndexes(db: Db, bucketName: string): Promise<void> {
  const { variants } = variantCollections(db, bucketName);
  await variants.createIndexes([{ key: OLDEST_FIRST_OF_ORIGINAL }]);
  await variants.createIndexes([{ key: { fileId: 1 } }]);
}

async function claimVariant({ files, variants }: VariantCollections, document: VariantDocument): Promise<ImageRecord> {
  return toRecord(await claimUniqueId({ claims: variants, files }, document));
}

function variantDocument(variant: NewVariant, file: GridFSFile, facts: VariantFacts): VariantDocument {
  return {
    _id: variantKey(variant.originalId, variant.params),
    originalId: new ObjectId(variant.originalId),
    params: variant.params,
    fileId: file._id,
    filename: variant.filename,
    contentType: variant.contentType,
    size: file.length,
    chunkSize: file.chunkSize,
    uploadDate: file.uploadDate,
    ...facts,
  };
}

function openUpload(collections: VariantCollections, variant: NewVariant, openUploads: OpenUploads): VariantUpload {
  const stream = collections.bucket.openUploadStream(variant.filename, {
    metadata: { variantOf: new ObjectId(variant.originalId), params: variant.params, contentType: variant.contentType },
  });
  const fileId = stream.id.toHexString();
  openUploads.add(fileId);
  return {
    fileId,
    stream,
    claim: async (facts) => {
      const file = stream.gridFSFile;
      if (!file) throw new Error(`GridFS did not record variant file ${fileId}`);
      const stored = await claimVariant(collections, variantDocument(variant, file, facts));
      // The file that lost stays open until its maker removes it: shutdown waits for that too.
      if (stored.fileId === fileId) openUploads.release(fileId);
      return stored;
    },
  };
}

/**
 * Three queries per batch of files, whatever their number. The claims go first, so that the
 * variants stop being found before their bytes go.
 */
async function removeFiles({ files, chunks, variants }: VariantCollections, fileIds: readonly ObjectId[]): Promise<void> {
  for (const batch of batchesOf(fileIds, IDS_PER_BATCH)) {
    await variants.deleteMany({ fileId: { $in: batch } });
    await files.deleteMany({ _id: { $in: batch } });
    await chunks.deleteMany({ files_id: { $in: batch } });
  }
}

type VariantIds = Pick<VariantDocument, '_id' | 'fileId'>;

async function removeVariants(collections: VariantCollections, found: readonly VariantIds[]): Promise<string[]> {
  await removeFiles(collections, found.map((variant) => variant.fileId));
  return found.map((variant) => variant._id);
}

function pageFilter(originalId: string, after: VariantPosition | undefined): Filter<VariantDocument> {
  const original = { originalId: new ObjectId(originalId) };
  if (!after) return original;
  const { uploadDate, params } = after;
  const key = variantKey(originalId, params);
  return { ...original, $or: [{ uploadDate: { $gt: uploadDate } }, { uploadDate, _id: { $gt: key } }] };
}

/** Originals with variants that are no longer in the originals' bucket, a batch at a time. */
async function variantFilesOfDeletedOriginals({ originals, variants }: VariantCollections): Promise<ObjectId[]> {
  const originalIds = await variants.distinct('originalId');
  const fileIds: ObjectId[] = [];
  for (const batch of batchesOf(originalIds, IDS_PER_BATCH)) {
    const found = await originals.find({ _id: { $in: batch } }, { projection: { _id: 1 } }).toArray();
    const present = new Set(found.map((file) => file._id.toHexString()));
    const gone = batch.filter((id) => !present.has(id.toHexString()));
    if (gone.length === 0) continue;
    const orphaned = await variants.find({ originalId: { $in: gone } }, { projection: { fileId: 1 } }).toArray();
    fileIds.push(...orphaned.map((variant) => variant.fileId));
  }
  return fileIds;
}

/** Finished variant files that no claim points to and that are older than the grace. */
async function unclaimedFiles({ files, variants }: VariantCollections, olderThan: Date): Promise<ObjectId[]> {
  const old = await files.find({ uploadDate: { $lt: olderThan } }, { projection: { _id: 1 } }).toArray();
  const unclaimed: ObjectId[] = [];
  for (const batch of batchesOf(old.map((file) => file._id), IDS_PER_BATCH)) {
    const claimed = await variants.find({ fileId: { $in: batch } }, { projection: { fileId: 1 } }).toArray();
    const claimedIds = new Set(claimed.map((variant) => variant.fileId.toHexString()));
    unclaimed.push(...batch.filter((id) => !claimedIds.has(id.toHexString())));
  }
  return unclaimed;
}

async function findLeftovers(collections: VariantCollections, olderThan: Date, openUploads: OpenUploads): Promise<string[]> {
  const ofDeleted = await variantFilesOfDeletedOriginals(collections);
  const unclaimed = await unclaimedFiles(collections, olderThan);
  const chunksOnly = await findOrphans({ ...collections, olderThan, isOpenUpload: (id) => openUploads.has(id) });
  const ids = [...ofDeleted, ...unclaimed].map((id) => id.toHexString()).concat(chunksOnly.map((orphan) => orphan.fileId));
  return [...new Set(ids)];
}

const toObjectIds = (ids: readonly string[]) => ids.map((id) => new ObjectId(id));

/**
 * The only code that touches the variants' GridFS bucket and their index. Its writes count in
 * `writes`, so that shutdown leaves no variant half written or half removed.
 */
export function createVariantRepository(db: Db, bucketName: string, writes: PendingWrites): VariantRepository {
  const collections = variantCollections(db, bucketName);
  // Written now, however long since their last chunk: not leftovers.
  const openUploads = createOpenUploads(writes);
  // A batch of ids per round trip, as they are removed: the driver's first batch would hold 101.
  const idsOnly = { projection: { _id: 1, fileId: 1 }, batchSize: IDS_PER_BATCH } as const;
  return {
    findById: async (key) => {
      const document = await collections.variants.findOne({ _id: key });
      return document ? toRecord(document) : null;
    },
    openUpload: (variant) => openUpload(collections, variant, openUploads),
    openContent: (variant, range) =>
      openChunkStream(
        collections.chunks,
        { id: new ObjectId(variant.fileId), length: variant.size, chunkSize: variant.chunkSize },
        range,
      ),
    listOf: async (originalId, limit, after) => {
      const documents = await collections.variants.find(pageFilter(originalId, after)).sort({ uploadDate: 1, _id: 1 }).limit(limit).toArray();
      return documents.map((document) => ({ params: document.params, record: toRecord(document) }));
    },
    abandon: (fileId) =>
      writes.track(() => {
        // Whether or not this works, the upload is over; if anything stays, the variant sweep takes it.
        openUploads.release(fileId);
        return removeFiles(collections, toObjectIds([fileId]));
      }),
    removeFiles: (fileIds) => writes.track(() => removeFiles(collections, toObjectIds(fileIds))),
    removeAllOf: (originalId) =>
      writes.track(async () =>
        removeVariants(collections, await collections.variants.find({ originalId: new ObjectId(originalId) }, idsOnly).toArray()),
      ),
    keepNewest: (originalId, count, keep) =>
      writes.track(async () => {
        const others = { originalId: new ObjectId(originalId), _id: { $ne: keep } };
        const beyond = await collections.variants.find(others, idsOnly).sort(NEWEST_FIRST).skip(count - 1).toArray();
        return removeVariants(collections, beyond);
      }),
    findLeftovers: (olderThan) => findLeftovers(collections, olderThan, openUploads),
  };
}
