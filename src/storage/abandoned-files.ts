import { ObjectId, type Collection, type GridFSFile } from 'mongodb';
import type { UploadStateRepository } from './upload-state-repository';
import type { ChunkDocument } from './gridfs/chunk-stream';
import { countChunksOf, deleteChunksOf, findOrphans, type Orphan, type OrphanSearch } from './gridfs/orphans';

export interface AbandonedSearch {
  readonly files: Collection<GridFSFile>;
  readonly chunks: Collection<ChunkDocument>;
  readonly uploadStates: UploadStateRepository;
}

/** Expired resumable uploads that never became an image, with their chunk counts. */
async function expiredUploads({ files, chunks, uploadStates }: AbandonedSearch, now: Date): Promise<Orphan[]> {
  const expired = await uploadStates.findExpired(now);
  if (expired.length === 0) return [];
  // A finish cut short after its file document was written left an image, not an orphan.
  const recorded = await files.find({ _id: { $in: expired } }, { projection: { _id: 1 } }).toArray();
  await uploadStates.forgetAll(recorded.map((file) => file._id));
  const recordedIds = new Set(recorded.map((file) => file._id.toHexString()));
  const unrecorded = expired.filter((id) => !recordedIds.has(id.toHexString()));
  const counts = await countChunksOf(chunks, unrecorded);
  return unrecorded.map((id) => ({ fileId: id.toHexString(), chunks: counts.get(id.toHexString()) ?? 0 }));
}

/**
 * Orphaned chunks, and the resumable uploads past their expiry at `now`. A resumable upload's chunks
 * have no file document until it finishes, however long it pauses: they are left alone while
 * its state lives, and removed with it once it has expired.
 */
export async function findAbandoned(
  search: AbandonedSearch,
  orphanSearch: Pick<OrphanSearch, 'olderThan' | 'isOpenUpload'>,
  now: Date,
): Promise<Orphan[]> {
  await search.uploadStates.forgetExpiredFinished(now);
  const orphans = await findOrphans({ ...search, ...orphanSearch });
  const owned = await search.uploadStates.ownedByUploads(orphans.map((orphan) => new ObjectId(orphan.fileId)));
  const ownedIds = new Set(owned.map((id) => id.toHexString()));
  const ownerless = orphans.filter((orphan) => !ownedIds.has(orphan.fileId));
  return [...ownerless, ...(await expiredUploads(search, now))];
}

/** Removes the chunks of these files and the state of any resumable upload among them; resolves to how many chunks went. */
export async function removeAbandoned({ chunks, uploadStates }: AbandonedSearch, ids: readonly string[]): Promise<number> {
  await uploadStates.forgetAll(ids.map((id) => new ObjectId(id)));
  return deleteChunksOf(chunks, ids);
}
