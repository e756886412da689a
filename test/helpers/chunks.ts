import { randomBytes } from 'node:crypto';
import { Binary, ObjectId, type Db } from 'mongodb';

/** An ObjectId made `secondsAgo` seconds ago, as the driver makes a chunk's `_id` when it writes it. */
export function objectIdFrom(secondsAgo: number): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(Date.now() / 1000) - secondsAgo, 0);
  randomBytes(8).copy(bytes, 4);
  return new ObjectId(bytes);
}

export interface ChunkWrite {
  readonly filesId: ObjectId;
  /** How long ago each chunk was written, in the order of `n`. */
  readonly secondsAgo: readonly number[];
  /** The `n` of the first chunk written; 0 unless more are added to a file's chunks. */
  readonly firstN?: number;
}

/** Chunks as GridFS writes them, written straight to the bucket, with no file document. */
export async function writeChunks(db: Db, bucketName: string, { filesId, secondsAgo, firstN = 0 }: ChunkWrite): Promise<void> {
  await db.collection(`${bucketName}.chunks`).insertMany(
    secondsAgo.map((age, index) => ({
      _id: objectIdFrom(age),
      files_id: filesId,
      n: firstN + index,
      data: new Binary(randomBytes(16)),
    })),
  );
}

export function countChunks(db: Db, bucketName: string, filesId: ObjectId): Promise<number> {
  return db.collection(`${bucketName}.chunks`).countDocuments({ files_id: filesId });
}

/** `count` files of one chunk each, written `secondsAgo` seconds ago, with no file document, in one insert. */
export async function writeOrphans(db: Db, bucketName: string, count: number, secondsAgo: number): Promise<ObjectId[]> {
  const ids = Array.from({ length: count }, () => new ObjectId());
  await db.collection(`${bucketName}.chunks`).insertMany(
    ids.map((filesId) => ({ _id: objectIdFrom(secondsAgo), files_id: filesId, n: 0, data: new Binary(randomBytes(16)) })),
  );
  return ids;
}
