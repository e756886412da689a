import type { Readable } from 'node:stream';
import { GridFSBucket, ObjectId, type Collection, type Db, type GridFSBucketWriteStream, type GridFSFile } from 'mongodb';
import { openChunkStream, type ByteRange, type ChunkDocument } from './gridfs-chunk-stream';
import { findOrphanedFileIds } from './gridfs-orphans';

export interface ImageRecord {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly uploadDate: Date;
  /** Hex SHA-256 of the bytes, computed as they streamed in; absent on files stored by other tools. */
  readonly sha256: string | undefined;
  /** How GridFS split the file: needed to read it back. */
  readonly chunkSize: number;
}

export interface NewImage {
  readonly filename: string;
  readonly contentType: string;
}

export interface CompletedImageFacts {
  readonly sha256: string;
}

/** An image being written; nothing of it is visible until `finish` resolves. */
export interface ImageUpload {
  readonly id: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Records what is known only once every byte has passed, and makes the file visible. */
  finish(facts: CompletedImageFacts): Promise<ImageRecord>;
}

export interface ImageRepository {
  /** Undone with `delete(upload.id)`, whatever state the upload reached. */
  openUpload(image: NewImage): ImageUpload;
  findById(id: string): Promise<ImageRecord | null>;
  /** The bytes from `start` to `end` inclusive; the whole file without a range. */
  openContent(image: ImageRecord, range?: ByteRange): Readable;
  /** Removes the file and its chunks; nothing happens if there are none. */
  delete(id: string): Promise<void>;
  /**
   * Files with chunks but no file document, whose newest chunk was written before
   * `olderThan`, and which this process is not uploading.
   */
  findOrphanedFileIds(olderThan: Date): Promise<string[]>;
  /** Removes the chunks of a file that has no file document; resolves to how many there were. */
  deleteOrphan(id: string): Promise<number>;
}

interface ImageMetadata {
  contentType: string;
  sha256?: string;
}

function toRecord(file: GridFSFile): ImageRecord {
  const metadata = file.metadata as ImageMetadata | undefined;
  return {
    id: file._id.toHexString(),
    filename: file.filename,
    contentType: metadata?.contentType ?? 'application/octet-stream',
    size: file.length,
    uploadDate: file.uploadDate,
    sha256: metadata?.sha256,
    chunkSize: file.chunkSize,
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
}

/**
 * Removes a file and its chunks, whatever state its upload was left in. The file document
 * goes first, so that the image stops being found before its bytes go.
 */
async function removeFile(collections: Collections, id: ObjectId): Promise<void> {
  await collections.files.deleteOne({ _id: id });
  await removeChunks(collections, id);
}

async function removeChunks({ chunks }: Collections, id: ObjectId): Promise<number> {
  const { deletedCount } = await chunks.deleteMany({ files_id: id });
  return deletedCount;
}

/**
 * Each write is cut at chunk boundaries and waits for the previous one, so at most one chunk
 * insert is ever on its way to the server: when the upload is abandoned, nothing can land
 * after its chunks have been deleted.
 */
function openUpload(collections: Collections, image: NewImage, openUploads: Set<string>): ImageUpload {
  const metadata: ImageMetadata = { contentType: image.contentType };
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
      try {
        await endStream(stream);
      } finally {
        openUploads.delete(id);
      }
      if (!stream.gridFSFile) throw new Error(`GridFS did not record file ${id}`);
      return toRecord(stream.gridFSFile);
    },
  };
}

/**
 * The only place that touches GridFS, with its chunk reader and orphan search. Ids are
 * 24-hex strings validated by the caller.
 */
export function createImageRepository(db: Db, bucketName: string): ImageRepository {
  const collections: Collections = {
    bucket: new GridFSBucket(db, { bucketName }),
    files: db.collection<GridFSFile>(`${bucketName}.files`),
    chunks: db.collection<ChunkDocument>(`${bucketName}.chunks`),
  };
  // A slow client can go longer than any grace between two chunks; its upload is still alive.
  const openUploads = new Set<string>();

  return {
    openUpload: (image) => openUpload(collections, image, openUploads),
    findById: async (id) => {
      const file = await collections.files.findOne({ _id: new ObjectId(id) });
      return file ? toRecord(file) : null;
    },
    openContent: (image, range) =>
      openChunkStream(
        collections.chunks,
        { id: new ObjectId(image.id), length: image.size, chunkSize: image.chunkSize },
        range,
      ),
    delete: async (id) => {
      // Whether or not this works, the upload is over; if chunks stay, the orphan sweep takes them.
      openUploads.delete(id);
      await removeFile(collections, new ObjectId(id));
    },
    findOrphanedFileIds: (olderThan) =>
      findOrphanedFileIds({ ...collections, olderThan, isOpenUpload: (id) => openUploads.has(id) }),
    deleteOrphan: (id) => removeChunks(collections, new ObjectId(id)),
  };
}
