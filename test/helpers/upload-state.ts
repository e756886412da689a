import { ObjectId, type Collection, type Db } from 'mongodb';

/** A lock document, as src/storage/lock-repository.ts writes it. */
export interface StoredLock {
  readonly _id: string;
  readonly holder: string;
  readonly until: Date;
  readonly wanted?: boolean;
}

export function locksOf(db: Db, bucketName = 'images'): Collection<StoredLock> {
  return db.collection<StoredLock>(`${bucketName}.locks`);
}

/** The upload's id in its path, `/image/uploads/<id>`. */
export function uploadIdOf(path: string): string {
  return path.split('/').at(-1) ?? '';
}

/** Whether a request holds the upload at `path` locked, as the database tells: 1 or 0. */
export function countLocks(db: Db, path: string): Promise<number> {
  return locksOf(db).countDocuments({ _id: uploadIdOf(path) });
}

/** A lock on the upload at `path` held until `until` by an instance that no longer answers. */
export async function lockAsAnInstanceGone(db: Db, path: string, until: Date): Promise<void> {
  await locksOf(db).insertOne({ _id: uploadIdOf(path), holder: 'an-instance-that-died', until });
}

/**
 * The offset the upload at `path` has recorded, read from the database: what its next HEAD will
 * tell, looked at without the lock a HEAD takes, which would stop a PATCH still writing.
 */
export async function recordedOffset(db: Db, path: string): Promise<number | undefined> {
  const state = await db.collection<{ offset: number }>('images.uploads').findOne({ _id: new ObjectId(uploadIdOf(path)) });
  return state?.offset;
}
