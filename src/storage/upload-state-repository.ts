import { Binary, ObjectId, type Collection, type Db } from 'mongodb';
import { isDuplicateKey } from '../database/database-errors';
import type { ChunkDocument } from './gridfs/chunk-stream';

/** Who may write an upload's bytes, and until when unless renewed. */
interface Lease {
  readonly owner: string;
  readonly until: Date;
}

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
  readonly lease?: Lease | null;
  /** The name of the key that created it; absent when no key is configured. */
  readonly owner?: string;
  /** The image the upload became; set once it is finished. */
  readonly imageId?: ObjectId;
  /** With STRIP_METADATA, the file its bytes are being copied into without their metadata, recorded before the copy's first byte. */
  readonly copyId?: ObjectId;
}

export type NewUploadState = Omit<UploadStateDocument, 'lease' | 'imageId' | 'copyId'>;

/** A lease is free when nobody holds it or its holder let it lapse (a crashed or stalled instance). */
const leaseIsFree = (now: Date) => ({ $or: [{ lease: null }, { 'lease.until': { $lt: now } }] });

export interface UploadStateRepository {
  create(state: NewUploadState): Promise<void>;
  find(id: ObjectId): Promise<UploadStateDocument | null>;
  /** Takes the upload's lease atomically; null when there is no such upload or another holds it. */
  claim(id: ObjectId, owner: string, until: Date): Promise<UploadStateDocument | null>;
  /** Records the bytes stored so far and renews the lease; false when the lease was lost. */
  checkpoint(id: ObjectId, owner: string, offset: number, until: Date): Promise<boolean>;
  release(id: ObjectId, owner: string, offset: number): Promise<void>;
  /** Records the file a finish is about to copy the upload into; false when the lease was lost. */
  recordCopy(id: ObjectId, owner: string, copyId: ObjectId): Promise<boolean>;
  finish(id: ObjectId, owner: string, offset: number, imageId: ObjectId): Promise<void>;
  /** The stored part of chunk `n`, to be completed by the next bytes. */
  readChunk(id: ObjectId, n: number): Promise<Buffer>;
  /** Writes chunk `n` whole or in part, replacing what a previous attempt left there. */
  putChunk(id: ObjectId, n: number, data: Uint8Array, replacing: boolean): Promise<void>;
  /** The upload's state and every chunk it wrote. */
  remove(id: ObjectId): Promise<void>;
  /** The upload's state only. */
  forget(id: ObjectId): Promise<void>;
  /** The state of each of these uploads, in one query. */
  forgetAll(ids: readonly ObjectId[]): Promise<void>;
  /** Unfinished uploads past their expiry whose lease is free: nobody is writing them. */
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
  const uploads = db.collection<UploadStateDocument>(uploadStateCollectionName(bucketName));
  const chunks: Collection<ChunkDocument> = db.collection<ChunkDocument>(`${bucketName}.chunks`);

  async function replaceChunk(id: ObjectId, n: number, data: Uint8Array): Promise<void> {
    await chunks.replaceOne({ files_id: id, n }, { files_id: id, n, data: new Binary(data) }, { upsert: true });
  }

  return {
    create: async (state) => {
      await uploads.insertOne(state);
    },
    find: (id) => uploads.findOne({ _id: id }),
    claim: (id, owner, until) =>
      uploads.findOneAndUpdate(
        { _id: id, ...leaseIsFree(new Date()) },
        { $set: { lease: { owner, until } } },
        { returnDocument: 'after' },
      ),
    checkpoint: async (id, owner, offset, until) => {
      const { matchedCount } = await uploads.updateOne({ _id: id, 'lease.owner': owner }, { $set: { offset, 'lease.until': until } });
      return matchedCount === 1;
    },
    release: async (id, owner, offset) => {
      await uploads.updateOne({ _id: id, 'lease.owner': owner }, { $set: { offset, lease: null } });
    },
    recordCopy: async (id, owner, copyId) => {
      const { matchedCount } = await uploads.updateOne({ _id: id, 'lease.owner': owner }, { $set: { copyId } });
      return matchedCount === 1;
    },
    finish: async (id, owner, offset, imageId) => {
      await uploads.updateOne({ _id: id, 'lease.owner': owner }, { $set: { offset, imageId, lease: null } });
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
      if (ids.length > 0) await uploads.deleteMany({ _id: { $in: [...ids] } });
    },
    findExpired: async (now) => {
      const expired = await uploads
        .find({ expiresAt: { $lt: now }, imageId: { $exists: false }, ...leaseIsFree(now) }, { projection: { _id: 1 } })
        .toArray();
      return expired.map((upload) => upload._id);
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
