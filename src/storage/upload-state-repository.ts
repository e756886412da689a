import { Binary, ObjectId, type Collection, type Db } from 'mongodb';
import { isDuplicateKey } from '../database/database-errors';
import type { ChunkDocument } from './gridfs/chunk-stream';
import { lockCollectionName } from './lock-repository';

/** `<bucket>.uploads`: one document per resumable upload, whatever instance receives its requests. */
export interface UploadStateDocument {
  readonly _id: ObjectId;
  readonly length: number;
  /** Bytes stored, from the start; always at most `length`, and `length` only once finished. */
  readonly offset: number;
  readonly chunkSize: number;
  readonly filename: string;
  /** The Upload-Metadata header as the client sent it, echoed on HEAD. */
  readonly metadata: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** The name of the key that created it; absent when no key is configured. */
  readonly owner?: string;
  /** The image the upload became; set once it is finished. */
  readonly imageId?: ObjectId;
  /** With STRIP_METADATA, the file its bytes are being copied into without their metadata, recorded before the copy's first byte. */
  readonly copyId?: ObjectId;
}

export type NewUploadState = Omit<UploadStateDocument, 'imageId' | 'copyId'>;

/**
 * Writes of an upload's bytes are recorded only over the offset the writer started from or
 * last recorded: a writer that lost its lock (its lease lapsed while it stalled) finds the
 * offset moved by the request that took it over, and stops, rather than moving it back.
 */
const unfinishedAt = (id: ObjectId, offset: number) => ({ _id: id, offset, imageId: { $exists: false } });

export interface UploadStateRepository {
  create(state: NewUploadState): Promise<void>;
  find(id: ObjectId): Promise<UploadStateDocument | null>;
  /** Records the bytes stored, if `recorded` is still the stored offset; false when another writer moved it, or the upload is gone. */
  record(id: ObjectId, recorded: number, offset: number): Promise<boolean>;
  /** Records the file a finish is about to copy the upload into, on the same terms as `record`. */
  recordCopy(id: ObjectId, recorded: number, copyId: ObjectId): Promise<boolean>;
  /** Marks the upload finished as this image, its offset its length. */
  finish(id: ObjectId, length: number, imageId: ObjectId): Promise<void>;
  /** The stored part of chunk `n`, to be completed by the next bytes. */
  readChunk(id: ObjectId, n: number): Promise<Buffer>;
  /** Writes chunk `n` whole or in part, replacing what a previous attempt left there. */
  putChunk(id: ObjectId, n: number, data: Uint8Array, replacing: boolean): Promise<void>;
  /** The upload's state and every chunk it wrote. */
  remove(id: ObjectId): Promise<void>;
  /** The upload's state only. */
  forget(id: ObjectId): Promise<void>;
  /** The state of each of these uploads, and the lapsed locks an instance that died left on them. */
  forgetAll(ids: readonly ObjectId[]): Promise<void>;
  /** Unfinished uploads past their expiry that no request holds locked: nobody is writing them. */
  findExpired(now: Date): Promise<ObjectId[]>;
  /** Of these ids, those a resumable upload owns: their chunks are not orphans. */
  ownedByUploads(ids: readonly ObjectId[]): Promise<ObjectId[]>;
  /** Forgets finished uploads past their expiry; their chunks are an image's now. */
  forgetExpiredFinished(now: Date): Promise<void>;
}

export function uploadStateCollectionName(bucketName: string): string {
  return `${bucketName}.uploads`;
}

export async function ensureUploadStateIndexes(db: Db, bucketName: string): Promise<void> {
  await db.collection(uploadStateCollectionName(bucketName)).createIndexes([{ key: { expiresAt: 1 } }]);
}

export function createUploadStateRepository(db: Db, bucketName: string): UploadStateRepository {
  // A request deciding from an upload's offset, under its lock, must not read a lagging secondary.
  const uploads = db.collection<UploadStateDocument>(uploadStateCollectionName(bucketName), { readPreference: 'primary' });
  const locks = db.collection<{ _id: string; until: Date }>(lockCollectionName(bucketName), { readPreference: 'primary' });
  const chunks: Collection<ChunkDocument> = db.collection<ChunkDocument>(`${bucketName}.chunks`);

  async function replaceChunk(id: ObjectId, n: number, data: Uint8Array): Promise<void> {
    await chunks.replaceOne({ files_id: id, n }, { files_id: id, n, data: new Binary(data) }, { upsert: true });
  }

  return {
    create: async (state) => {
      await uploads.insertOne(state);
    },
    find: (id) => uploads.findOne({ _id: id }),
    record: async (id, recorded, offset) => {
      const { matchedCount } = await uploads.updateOne(unfinishedAt(id, recorded), { $set: { offset } });
      return matchedCount === 1;
    },
    recordCopy: async (id, recorded, copyId) => {
      const { matchedCount } = await uploads.updateOne(unfinishedAt(id, recorded), { $set: { copyId } });
      return matchedCount === 1;
    },
    finish: async (id, length, imageId) => {
      await uploads.updateOne({ _id: id }, { $set: { offset: length, imageId } });
    },
    readChunk: async (id, n) => {
      const chunk = await chunks.findOne({ files_id: id, n }, { projection: { _id: 0, data: 1 } });
      return Buffer.from(chunk?.data.buffer ?? []);
    },
    putChunk: async (id, n, data, replacing) => {
      if (replacing) return replaceChunk(id, n, data);
      try {
        // An insert costs no search; a chunk left past the stored offset by an earlier attempt is replaced.
        await chunks.insertOne({ files_id: id, n, data: new Binary(data) });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        await replaceChunk(id, n, data);
      }
    },
    remove: async (id) => {
      await uploads.deleteOne({ _id: id });
      await chunks.deleteMany({ files_id: id });
    },
    forget: async (id) => {
      await uploads.deleteOne({ _id: id });
    },
    forgetAll: async (ids) => {
      if (ids.length === 0) return;
      await uploads.deleteMany({ _id: { $in: [...ids] } });
      await locks.deleteMany({ _id: { $in: ids.map((id) => id.toHexString()) }, until: { $lt: new Date() } });
    },
    findExpired: async (now) => {
      const expired = await uploads.find({ expiresAt: { $lt: now }, imageId: { $exists: false } }, { projection: { _id: 1 } }).toArray();
      if (expired.length === 0) return [];
      // Read after the uploads: a lock taken since is by a request that will find the upload expired, and write nothing.
      const held = await locks.find({ _id: { $in: expired.map(({ _id }) => _id.toHexString()) }, until: { $gte: now } }, { projection: { _id: 1 } }).toArray();
      const heldIds = new Set(held.map((lock) => lock._id));
      return expired.map((upload) => upload._id).filter((id) => !heldIds.has(id.toHexString()));
    },
    ownedByUploads: async (ids) => {
      const owned = await uploads.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray();
      return owned.map((upload) => upload._id);
    },
    forgetExpiredFinished: async (now) => {
      await uploads.deleteMany({ expiresAt: { $lt: now }, imageId: { $exists: true } });
    },
  };
}
