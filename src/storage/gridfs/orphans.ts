import { ObjectId, type Collection, type GridFSFile } from 'mongodb';
import type { ChunkDocument } from './chunk-stream';

/**
 * Ids per `$in`. On FerretDB (SQLite) every chunk query reads the whole chunks collection,
 * so a sweep's cost is its number of queries: a constant number per this many ids.
 */
export const IDS_PER_BATCH = 500;

/** A file id with chunks but no file document, and how many chunks it had when the sweep listed it. */
export interface Orphan {
  readonly fileId: string;
  readonly chunks: number;
}

export interface OrphanSearch {
  readonly files: Collection<GridFSFile>;
  readonly chunks: Collection<ChunkDocument>;
  /** Written after this, a chunk shows that its upload may still be going on. */
  readonly olderThan: Date;
  /** Uploads this process is writing: alive, however long since their last chunk. */
  readonly isOpenUpload: (id: string) => boolean;
}

interface ChunkedFile {
  readonly id: ObjectId;
  readonly chunks: number;
}

/**
 * Every file id that has chunks, each once with its chunk count, a batch at a time. `$group`
 * with `$sum` is what FerretDB 1.24 runs (it has no `$max`, `$min` or `$last` accumulator and
 * no `$lookup`); the projection keeps its working set to ids, not chunk data. Counting here
 * costs nothing more than the scan already does, and saves a query over the chunks later.
 */
async function* chunkedFileBatches(chunks: Collection<ChunkDocument>): AsyncGenerator<ChunkedFile[]> {
  const cursor = chunks.aggregate<{ _id: unknown; chunks: number }>(
    [{ $project: { _id: 0, files_id: 1 } }, { $group: { _id: '$files_id', chunks: { $sum: 1 } } }],
    { batchSize: IDS_PER_BATCH, allowDiskUse: true },
  );
  let batch: ChunkedFile[] = [];
  for await (const { _id: id, chunks: count } of cursor) {
    // Other tools may store files under other id types; this API only ever writes ObjectIds.
    if (id instanceof ObjectId) batch.push({ id, chunks: count });
    if (batch.length === IDS_PER_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function withoutFileDocument(files: Collection<GridFSFile>, batch: readonly ChunkedFile[]): Promise<ChunkedFile[]> {
  const found = await files.find({ _id: { $in: batch.map((file) => file.id) } }, { projection: { _id: 1 } }).toArray();
  const recorded = new Set(found.map((file) => file._id.toHexString()));
  return batch.filter((file) => !recorded.has(file.id.toHexString()));
}

/**
 * Files without a file document that this process is not writing, gathered into batches of
 * `IDS_PER_BATCH` across the listing, so that the few candidates of a large bucket cost one
 * query over the chunks rather than one per listing batch.
 */
async function* candidateBatches(search: OrphanSearch): AsyncGenerator<ChunkedFile[]> {
  let candidates: ChunkedFile[] = [];
  for await (const listed of chunkedFileBatches(search.chunks)) {
    // Open uploads first, the files collection second: an upload of this process that finishes
    // in between is then either still open or already has its file document, never neither.
    const notOpen = listed.filter((file) => !search.isOpenUpload(file.id.toHexString()));
    candidates.push(...(await withoutFileDocument(search.files, notOpen)));
    while (candidates.length >= IDS_PER_BATCH) {
      yield candidates.slice(0, IDS_PER_BATCH);
      candidates = candidates.slice(IDS_PER_BATCH);
    }
  }
  if (candidates.length > 0) yield candidates;
}

/**
 * Which of `ids` have a chunk written since `since`. A chunk's `_id` is an ObjectId the driver
 * made as it wrote the chunk, so it carries the write time.
 */
async function withChunkSince(chunks: Collection<ChunkDocument>, ids: readonly ObjectId[], since: Date): Promise<Set<string>> {
  const sinceId = ObjectId.createFromTime(Math.floor(since.getTime() / 1000));
  const recent = await chunks.distinct('files_id', { files_id: { $in: [...ids] }, _id: { $gte: sinceId } });
  return new Set(recent.map((id) => id.toHexString()));
}

/**
 * Files that have chunks but no file document and whose newest chunk was written before
 * `olderThan`: uploads that will never finish. An upload in progress has no file document
 * either, so the age that counts is that of its newest chunk, not of its id.
 */
export async function findOrphans(search: OrphanSearch): Promise<Orphan[]> {
  const orphans: Orphan[] = [];
  for await (const candidates of candidateBatches(search)) {
    const alive = await withChunkSince(search.chunks, candidates.map((file) => file.id), search.olderThan);
    for (const { id, chunks } of candidates) {
      if (!alive.has(id.toHexString())) orphans.push({ fileId: id.toHexString(), chunks });
    }
  }
  return orphans;
}

/**
 * Removes every chunk of these files; resolves to how many went. Nothing is checked again:
 * nothing wrote to them within the grace and this process is not writing them, so by the
 * grace's contract (an upload writes a chunk at least once per grace) nothing ever will again.
 * A check here could not be atomic with the delete anyway (FerretDB has no transactions), and
 * keeping chunks written since the search (`_id: {$lt: …}`) would only leave a late upload
 * without its first chunks, just as broken. Such a late write shows as more chunks removed
 * than counted, which the sweeper reports.
 */
export async function deleteChunksOf(chunks: Collection<ChunkDocument>, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { deletedCount } = await chunks.deleteMany({ files_id: { $in: ids.map((id) => new ObjectId(id)) } });
  return deletedCount;
}

/** How many chunks each of these files has; files without any are left out. */
export async function countChunksOf(chunks: Collection<ChunkDocument>, ids: readonly ObjectId[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const counts = await chunks
    .aggregate<{ _id: ObjectId; chunks: number }>([
      { $match: { files_id: { $in: [...ids] } } },
      { $project: { _id: 0, files_id: 1 } },
      { $group: { _id: '$files_id', chunks: { $sum: 1 } } },
    ])
    .toArray();
  return new Map(counts.map((count) => [count._id.toHexString(), count.chunks]));
}
