import type { Readable } from 'node:stream';
import {
  GridFSBucket,
  ObjectId,
  type Collection,
  type Db,
  type Filter,
  type GridFSBucketWriteStream,
  type GridFSFile,
} from 'mongodb';
import {
  createUploadStateRepository,
  ensureUploadStateIndexes,
} from './upload-state-repository';
import { expectChunksKept, openChunkStream, type ByteRange, type ChunkDocument } from './gridfs/chunk-stream';
import { findAbandoned, removeAbandoned } from './abandoned-files';
import type { Orphan } from './gridfs/orphans';
import { claimUniqueId } from './gridfs/unique-claim';
import type { PendingWrites } from '../core/pending-writes';
import { createOpenUploads, type OpenUploads } from './gridfs/open-uploads';

export type { Orphan } from './gridfs/orphans';

export interface ImageRecord {
  /** What the image is found and cached by: an original's file id, or a variant's key. */
  readonly id: string;
  /** The GridFS file holding the bytes: an original's own id, or the file a variant's key points to. */
  readonly fileId: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly uploadDate: Date;
  /** Hex SHA-256 of the bytes, computed as they streamed in; absent on files stored by other tools. */
  readonly sha256: string | undefined;
  /** Read from the image header on upload; absent on files stored by other tools. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** How GridFS split the file: needed to read it back. */
  readonly chunkSize: number;
  /** The strong ETag's value: the SHA-256 where there is one, else the id. */
  readonly entityTag: string;
  /** The name of the API key that uploaded it; absent when no key was configured, and on variants. */
  readonly owner?: string;
}

export interface NewImage {
  readonly filename: string;
  readonly contentType: string;
  readonly width: number;
  readonly height: number;
  /** The uploading key's name; absent when no key is configured. */
  readonly owner?: string | undefined;
}

/** Where a page of the newest-first listing ends, so that the next one starts right after it. */
export interface ListPosition {
  readonly uploadDate: Date;
  readonly id: string;
}

/** Chunks written to the bucket by other means (a resumable upload), to be made an image. */
export interface WrittenFile extends NewImage {
  readonly id: string;
  readonly length: number;
  readonly chunkSize: number;
  readonly sha256: string;
}

export interface CompletedImageFacts {
  readonly sha256: string;
}

/** An image being written; nothing of it is visible until `finish` resolves. */
export interface ImageUpload {
  readonly id: string;
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Records what is known only once every byte has passed, and makes the file visible; rejects
   * with `MissingChunksError` if any of its chunks were removed meanwhile.
   */
  finish(facts: CompletedImageFacts): Promise<ImageRecord>;
}

/** Where a file's chunks are and how they split it. */
export interface ChunkLayout {
  readonly id: string;
  readonly length: number;
  readonly chunkSize: number;
}

export interface ImageRepository {
  /** Undone with `abandon(upload.id)`, whatever state the upload reached. */
  openUpload(image: NewImage): ImageUpload;
  findById(id: string): Promise<ImageRecord | null>;
  /** Up to `limit` images, newest first, from just after `after`; only `owner`'s when one is given. */
  list(limit: number, after: ListPosition | undefined, owner: string | undefined): Promise<ImageRecord[]>;
  /** The bytes from `start` to `end` inclusive; the whole file without a range. */
  openContent(image: ImageRecord, range?: ByteRange): Readable;
  /** The same for chunks that have no file document yet. */
  openChunks(layout: ChunkLayout, range?: ByteRange): Readable;
  /**
   * Writes the file document for chunks already in the bucket, which makes them an image;
   * writing it again replaces it, so that a finish cut short may be retried. Rejects with
   * `MissingChunksError`, and takes the document back, if the chunks are not all there.
   */
  recordFile(file: WrittenFile): Promise<ImageRecord>;
  /**
   * Removes an image: its file document, then its chunks; false if it had no file document,
   * and then nothing is touched, for chunks without one are an upload still being written.
   */
  delete(id: string): Promise<boolean>;
  /** What the writer of a file does when it gives up on it: the file and its chunks go, finished or not. */
  abandon(id: string): Promise<void>;
  /**
   * Makes `id` the one image of `owner`'s holding this content, unless another of theirs already
   * does; returns the id of the holder. A unique index decides between concurrent claims.
   */
  claimContent(owner: string | undefined, sha256: string, id: string): Promise<string>;
  /**
   * Files with chunks but no file document, whose newest chunk was written before
   * `olderThan`, and which neither this process nor a resumable upload is writing; and the
   * resumable uploads past their expiry at `now` that nobody is writing. A few queries per 500 file ids.
   */
  findOrphans(olderThan: Date, now: Date): Promise<Orphan[]>;
  /** Removes all chunks of these files, and the state of any resumable upload among them; resolves to how many chunks went. */
  deleteOrphans(ids: readonly string[]): Promise<number>;
}

interface ImageMetadata {
  contentType: string;
  width: number;
  height: number;
  sha256?: string;
  owner?: string;
}

/**
 * Which image holds each content, when uploads are deduplicated: its `_id` is the content's
 * SHA-256, after its owner's name and a colon when keys have names, so that no owner is ever
 * answered with another's image.
 */
interface DigestDocument {
  _id: string;
  fileId: ObjectId;
}

function toRecord(file: GridFSFile): ImageRecord {
  const metadata = file.metadata as ImageMetadata | undefined;
  const id = file._id.toHexString();
  return {
    id,
    fileId: id,
    filename: file.filename,
    contentType: metadata?.contentType ?? 'application/octet-stream',
    size: file.length,
    uploadDate: file.uploadDate,
    sha256: metadata?.sha256,
    width: metadata?.width,
    height: metadata?.height,
    chunkSize: file.chunkSize,
    entityTag: metadata?.sha256 ?? id,
    ...(metadata?.owner === undefined ? {} : { owner: metadata.owner }),
  };
}

/** An image's metadata document; a key's name only where there is one, so that files stored without keys stay as they were. */
function metadataOf(image: NewImage, sha256?: string): ImageMetadata {
  return {
    contentType: image.contentType,
    width: image.width,
    height: image.height,
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(image.owner === undefined ? {} : { owner: image.owner }),
  };
}

function writeChunk(stream: GridFSBucketWriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

function endStream(stream: GridFSBucketWriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

interface Collections {
  readonly bucket: GridFSBucket;
  readonly files: Collection<GridFSFile>;
  readonly chunks: Collection<ChunkDocument>;
  readonly digests: Collection<DigestDocument>;
}

/**
 * Removes an image, and its chunks only if it had a file document: an upload writes that last,
 * so chunks without one belong to an upload still under way, on this instance or another, which
 * would go on to answer success over the hole. Its writer removes them if it gives up, the orphan
 * sweeper once they are abandoned. The file document goes first, so that the image stops being
 * found before its bytes go; chunks left by a removal cut short are the orphan sweeper's too.
 */
async function deleteImage(collections: Collections, id: ObjectId): Promise<boolean> {
  await collections.digests.deleteMany({ fileId: id });
  const { deletedCount } = await collections.files.deleteOne({ _id: id });
  if (deletedCount === 0) return false;
  await collections.chunks.deleteMany({ files_id: id });
  return true;
}

/** Removes a file and its chunks, whatever state its upload was left in: for its writer alone. */
async function removeFile(collections: Collections, id: ObjectId): Promise<void> {
  await collections.digests.deleteMany({ fileId: id });
  await collections.files.deleteOne({ _id: id });
  await collections.chunks.deleteMany({ files_id: id });
}

/** Names never hold a colon (config.ts), so no owner's key can be another's. */
const digestKey = (owner: string | undefined, sha256: string) => (owner === undefined ? sha256 : `${owner}:${sha256}`);

async function claimContent({ files, digests }: Collections, content: string, id: ObjectId): Promise<string> {
  const holder = await claimUniqueId({ claims: digests, files }, { _id: content, fileId: id });
  return holder.fileId.toHexString();
}

/**
 * The top-level bound repeats what the `$or` says, for a database that filters `$or` only after
 * reading each document (our FerretDB): from this bound it starts a later page at the cursor in
 * its index, instead of reading and skipping every newer file.
 */
function listFilter(after: ListPosition | undefined, owner: string | undefined): Filter<GridFSFile> {
  const ownerFilter = owner === undefined ? {} : { 'metadata.owner': owner };
  if (!after) return ownerFilter;
  const { uploadDate, id } = after;
  return {
    ...ownerFilter,
    uploadDate: { $lte: uploadDate },
    $or: [{ uploadDate: { $lt: uploadDate } }, { uploadDate, _id: { $lt: new ObjectId(id) } }],
  };
}

/** The order of the listing, newest first; the id breaks ties between uploads in the same millisecond. */
const NEWEST_FIRST = { uploadDate: -1, _id: -1 } as const;

/** The same order within one key's images, for the listing of a caller who is not an admin. */
const OWNERS_NEWEST_FIRST = { 'metadata.owner': 1, ...NEWEST_FIRST } as const;

/**
 * Indexes beyond the ones GridFS makes for itself, and the chunks' own index, which GridFS
 * makes only on its first upload while a resumable upload may come first; run once at
 * start-up, harmless to repeat.
 */
export async function ensureImageIndexes(db: Db, bucketName: string): Promise<void> {
  const files = db.collection(`${bucketName}.files`);
  // One index a command: our FerretDB drops the connection (its process crashes) when a command
  // of several indexes is repeated, as every start after the first does.
  await files.createIndexes([{ key: NEWEST_FIRST }]);
  await files.createIndexes([{ key: OWNERS_NEWEST_FIRST }]);
  await db.collection(`${bucketName}.chunks`).createIndexes([{ key: { files_id: 1, n: 1 }, unique: true }]);
  await ensureUploadStateIndexes(db, bucketName);
  await db.collection(`${bucketName}.digests`).createIndexes([{ key: { fileId: 1 } }]);
}

/**
 * Each write is cut at chunk boundaries and waits for the previous one, so at most one chunk
 * insert is ever on its way to the server: when the upload is abandoned, nothing can land
 * after its chunks have been deleted.
 */
function openUpload(collections: Collections, image: NewImage, openUploads: OpenUploads): ImageUpload {
  const metadata = metadataOf(image);
  const stream = collections.bucket.openUploadStream(image.filename, { metadata });
  // Failures reach the caller through the write and end callbacks; unheard, the event would crash the process.
  stream.on('error', () => undefined);
  const chunkSize = stream.chunkSizeBytes;
  const id = stream.id.toHexString();
  let written = 0;
  openUploads.add(id);

  return {
    id,
    write: async (data) => {
      for (let offset = 0; offset < data.length; ) {
        const piece = data.subarray(offset, offset + chunkSize - (written % chunkSize));
        await writeChunk(stream, piece);
        offset += piece.length;
        written += piece.length;
      }
    },
    finish: async (facts) => {
      // GridFS writes this same metadata object into the files document when the stream ends.
      metadata.sha256 = facts.sha256;
      // Until it ends well, the upload stays open: the caller's removal releases it.
      await endStream(stream);
      const file = stream.gridFSFile;
      if (!file) throw new Error(`GridFS did not record file ${id}`);
      // Checked after the file document is written: from then on, only a removal of the image takes chunks.
      await expectChunksKept(collections.chunks, { id: stream.id, length: file.length, chunkSize });
      openUploads.release(id);
      return toRecord(file);
    },
  };
}

async function recordFile({ files, chunks }: Collections, file: WrittenFile): Promise<ImageRecord> {
  const metadata = metadataOf(file, file.sha256);
  const document: GridFSFile = {
    _id: new ObjectId(file.id),
    length: file.length,
    chunkSize: file.chunkSize,
    uploadDate: new Date(),
    filename: file.filename,
    metadata,
  };
  await files.replaceOne({ _id: document._id }, document, { upsert: true });
  try {
    await expectChunksKept(chunks, { id: document._id, length: file.length, chunkSize: file.chunkSize });
  } catch (error) {
    await files.deleteOne({ _id: document._id });
    throw error;
  }
  return toRecord(document);
}

/**
 * The originals' GridFS bucket, with its chunk reader and orphan search. Ids are 24-hex strings
 * validated by the caller. Its writes count in `writes`, an upload from its opening until it is
 * finished or removed, so that shutdown leaves no half image behind.
 */
export function createImageRepository(db: Db, bucketName: string, writes: PendingWrites): ImageRepository {
  const collections: Collections = {
    bucket: new GridFSBucket(db, { bucketName }),
    files: db.collection<GridFSFile>(`${bucketName}.files`),
    chunks: db.collection<ChunkDocument>(`${bucketName}.chunks`),
    digests: db.collection<DigestDocument>(`${bucketName}.digests`),
  };
  const uploadStates = createUploadStateRepository(db, bucketName);
  const openUploads = createOpenUploads(writes);

  return {
    openUpload: (image) => openUpload(collections, image, openUploads),
    findById: async (id) => {
      const file = await collections.files.findOne({ _id: new ObjectId(id) });
      return file ? toRecord(file) : null;
    },
    list: async (limit, after, owner) => {
      const files = await collections.files.find(listFilter(after, owner)).sort(NEWEST_FIRST).limit(limit).toArray();
      return files.map(toRecord);
    },
    openContent: (image, range) =>
      openChunkStream(
        collections.chunks,
        { id: new ObjectId(image.fileId), length: image.size, chunkSize: image.chunkSize },
        range,
      ),
    openChunks: ({ id, length, chunkSize }, range) =>
      openChunkStream(collections.chunks, { id: new ObjectId(id), length, chunkSize }, range),
    recordFile: (file) => writes.track(() => recordFile(collections, file)),
    delete: (id) => writes.track(() => deleteImage(collections, new ObjectId(id))),
    abandon: (id) =>
      writes.track(() => {
        // Whether or not this works, the upload is over; if chunks stay, the orphan sweep takes them.
        openUploads.release(id);
        return removeFile(collections, new ObjectId(id));
      }),
    claimContent: (owner, sha256, id) => writes.track(() => claimContent(collections, digestKey(owner, sha256), new ObjectId(id))),
    findOrphans: (olderThan, now) =>
      findAbandoned({ ...collections, uploadStates }, { olderThan, isOpenUpload: (id) => openUploads.has(id) }, now),
    deleteOrphans: (ids) => writes.track(() => removeAbandoned({ ...collections, uploadStates }, ids)),
  };
}
