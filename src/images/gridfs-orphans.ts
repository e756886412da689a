import { ObjectId, type Collection, type GridFSFile } from 'mongodb';
import type { ChunkDocument } from './gridfs-chunk-stream';

/** File ids checked against the files collection per query: one `$in` of this many. */
const IDS_PER_BATCH = 500;

export interface OrphanSearch {
  readonly files: Collection<GridFSFile>;
  readonly chunks: Collection<ChunkDocument>;
  /** Written after this, a chunk shows that its upload may still be going on. */
  readonly olderThan: Date;
  /** Uploads this process is writing: alive, however long since their last chunk. */
  readonly isOpenUpload: (id: string) => boolean;
}

/**
 * Every file id that has chunks, each once, a batch at a time. `$group` without an
 * accumulator is what FerretDB 1.24 runs (it has no `$max`, `$min` or `$last` accumulator
 * and no `$lookup`); the projection keeps its working set to ids, not chunk data.
 */
async function* fileIdBatches(chunks: Collection<ChunkDocument>): AsyncGenerator<ObjectId[]> {
  const cursor = chunks.aggregate<{ _id: unknown }>(
    [{ $project: { _id: 0, files_id: 1 } }, { $group: { _id: '$files_id' } }],
    { batchSize: IDS_PER_BATCH, allowDiskUse: true },
  );
  let batch: ObjectId[] = [];
  for await (const { _id: id } of cursor) {
    // Other tools may store files under other id types; this API only ever writes ObjectIds.
    if (id instanceof ObjectId) batch.push(id);
    if (batch.length === IDS_PER_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function withoutFileDocument(files: Collection<GridFSFile>, ids: readonly ObjectId[]): Promise<ObjectId[]> {
  const found = await files.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray();
  const recorded = new Set(found.map((file) => file._id.toHexString()));
  return ids.filter((id) => !recorded.has(id.toHexString()));
}

/** A chunk's `_id` is an ObjectId the driver made as it wrote the chunk, so it carries the write time. */
async function hasChunkSince(chunks: Collection<ChunkDocument>, id: ObjectId, since: Date): Promise<boolean> {
  const sinceId = ObjectId.createFromTime(Math.floor(since.getTime() / 1000));
  const recent = await chunks.findOne({ files_id: id, _id: { $gte: sinceId } }, { projection: { _id: 1 } });
  return recent !== null;
}

/**
 * Ids of files that have chunks but no file document and whose newest chunk was written
 * before `olderThan`: uploads that will never finish. An upload in progress has no file
 * document either, so the age that counts is that of its newest chunk, not of its id.
 */
export async function findOrphanedFileIds(search: OrphanSearch): Promise<string[]> {
  const orphans: string[] = [];
  for await (const batch of fileIdBatches(search.chunks)) {
    for (const id of await withoutFileDocument(search.files, batch)) {
      if (search.isOpenUpload(id.toHexString())) continue;
      if (!(await hasChunkSince(search.chunks, id, search.olderThan))) orphans.push(id.toHexString());
    }
  }
  return orphans;
}
