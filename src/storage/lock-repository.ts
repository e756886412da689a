import type { Db } from 'mongodb';
import { isDuplicateKey } from '../database/database-errors';

/**
 * `<bucket>.locks`: one document per locked resource (a resumable upload's id), whichever
 * instance holds it. The unique `_id` makes taking a lock one atomic write; the lease
 * (`until`) lets a lock held by an instance that died lapse; `wanted` asks the holder to let go.
 */
interface LockDocument {
  readonly _id: string;
  /** Who holds it: one token per request that took it. */
  readonly holder: string;
  /** The lease: after this, without renewal, the lock is free to take. */
  readonly until: Date;
  /** Set by a request waiting for the lock; the holder sees it and lets go. */
  readonly wanted?: boolean;
}

/** What the holder of a lock learns when it looks at it. */
export interface LockState {
  readonly id: string;
  readonly holder: string;
  readonly wanted: boolean;
}

export interface LockRepository {
  /**
   * Takes the lock for `holder` until `until`, when nobody holds it or its lease lapsed before
   * `now`; false when another holder's lease is still running.
   */
  take(id: string, holder: string, now: Date, until: Date): Promise<boolean>;
  /** Asks whoever holds the lock to let go. */
  want(id: string): Promise<void>;
  /** Extends the leases these holders still hold. */
  renew(ids: readonly string[], holders: readonly string[], until: Date): Promise<void>;
  /** The locks among these ids that exist, with their holders. */
  read(ids: readonly string[]): Promise<LockState[]>;
  /** Lets go of the lock, if `holder` still holds it. */
  release(id: string, holder: string): Promise<void>;
}

export function lockCollectionName(bucketName: string): string {
  return `${bucketName}.locks`;
}

export function createLockRepository(db: Db, bucketName: string): LockRepository {
  // A holder looking whether it is wanted, or a sweep whether an upload is held, must not read a lagging secondary.
  const locks = db.collection<LockDocument>(lockCollectionName(bucketName), { readPreference: 'primary' });
  return {
    take: async (id, holder, now, until) => {
      try {
        // No document: the upsert inserts one. A lapsed one matches and is taken over. A live one
        // does not match, and the insert the upsert then tries collides with its _id.
        await locks.updateOne({ _id: id, until: { $lt: now } }, { $set: { holder, until }, $unset: { wanted: '' } }, { upsert: true });
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // A take retried after its answer was lost, where the server cannot tell a retry, finds the lock its own.
        return (await locks.countDocuments({ _id: id, holder }, { limit: 1 })) === 1;
      }
    },
    want: async (id) => {
      await locks.updateOne({ _id: id }, { $set: { wanted: true } });
    },
    renew: async (ids, holders, until) => {
      await locks.updateMany({ _id: { $in: [...ids] }, holder: { $in: [...holders] } }, { $set: { until } });
    },
    read: async (ids) => {
      const found = await locks.find({ _id: { $in: [...ids] } }, { projection: { holder: 1, wanted: 1 } }).toArray();
      return found.map((lock) => ({ id: lock._id, holder: lock.holder, wanted: lock.wanted === true }));
    },
    release: async (id, holder) => {
      await locks.deleteOne({ _id: id, holder });
    },
  };
}
