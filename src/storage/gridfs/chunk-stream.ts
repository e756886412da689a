import { Readable } from 'node:stream';
import type { Binary, Collection, ObjectId } from 'mongodb';

/**
 * Bytes fetched per round trip, at most. GridFSBucket's own read stream leaves the batch size to
 * the server, which sends up to 16 MiB per batch on MongoDB and all remaining chunks on FerretDB:
 * that much memory per download, for every download in flight. 2 MiB still fetch a file of up to
 * eight default-sized chunks in one query, as GridFSBucket does; each query costs the database
 * more than the bytes it returns.
 */
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Batches a read holds at once, fetched or being fetched: the next batch is asked for while the
 * one before is read, and the first two of a larger file at once. A read then waits for the
 * database about once rather than once per batch, and two queries can use two cores of the
 * database, at up to twice BATCH_BYTES per download.
 */
const BATCHES_AT_ONCE = 2;

export interface ChunkDocument {
  readonly files_id: ObjectId;
  readonly n: number;
  readonly data: Binary;
}

export interface StoredFileLayout {
  readonly id: ObjectId;
  readonly length: number;
  readonly chunkSize: number;
}

/** Byte offsets, both inclusive, as in HTTP's Range header. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
}

/** A file that lost chunks while it was being written: some other path removed them. */
export class MissingChunksError extends Error {
  override readonly name = 'MissingChunksError';

  constructor(
    readonly fileId: string,
    missing: number,
    probed: readonly number[],
  ) {
    super(`file ${fileId} lacks ${missing} of its chunks ${probed.join(' and ')}: they were removed while it was written`);
  }
}

function expectedChunkLength(file: StoredFileLayout, n: number): number {
  return Math.min(file.chunkSize, file.length - n * file.chunkSize);
}

/**
 * The chunks' numbers one by one rather than as a range, which the `files_id, n` index serves
 * as well on MongoDB: our FerretDB reads each chunk's whole document to test a range on `n`,
 * but looks an equality up in the index (a one-chunk Range read took 34 to 56 ms against 8 to
 * 11 ms). A file of more chunks than it pushes down (1,000) is filtered by FerretDB itself.
 */
function chunkNumbers(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

/** Chunks `first` to `last` of a file, in order of `n`, in one query. */
async function fetchBatch(chunks: Collection<ChunkDocument>, file: StoredFileLayout, first: number, last: number): Promise<ChunkDocument[]> {
  const count = last - first + 1;
  // With the limit, the server closes the cursor with the last chunk instead of waiting for a getMore.
  return chunks
    .find({ files_id: file.id, n: { $in: chunkNumbers(first, last) } }, { limit: count, batchSize: count })
    .sort({ n: 1 })
    .toArray();
}

/**
 * The batches of chunks `first` to `last`, in order, each fetched once BATCHES_AT_ONCE allow.
 * A batch nobody waits for any more (the reader went away) still settles, unheard.
 */
async function* batchesOf(chunks: Collection<ChunkDocument>, file: StoredFileLayout, first: number, last: number) {
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / file.chunkSize));
  const pending: Promise<ChunkDocument[]>[] = [];
  for (let next = first; ; ) {
    for (; next <= last && pending.length < BATCHES_AT_ONCE; next += perBatch) {
      const batch = fetchBatch(chunks, file, next, Math.min(last, next + perBatch - 1));
      batch.catch(() => undefined);
      pending.push(batch);
    }
    const batch = pending.shift();
    if (batch === undefined) return;
    yield await batch;
  }
}

async function* chunksOf(
  chunks: Collection<ChunkDocument>,
  file: StoredFileLayout,
  range: ByteRange,
): AsyncGenerator<Uint8Array> {
  const first = Math.floor(range.start / file.chunkSize);
  const last = Math.floor(range.end / file.chunkSize);
  let expected = first;
  for await (const batch of batchesOf(chunks, file, first, last)) {
    for (const chunk of batch) {
      const bytes = chunk.data.buffer;
      if (chunk.n !== expected || bytes.length !== expectedChunkLength(file, expected)) {
        throw new CorruptFileError(`chunk ${expected} of file ${file.id.toHexString()} is missing or has the wrong size`);
      }
      const offset = expected * file.chunkSize;
      yield bytes.subarray(Math.max(0, range.start - offset), range.end - offset + 1);
      expected += 1;
    }
  }
  if (expected !== last + 1) {
    throw new CorruptFileError(`file ${file.id.toHexString()} lacks chunk ${expected}`);
  }
}

/**
 * The bytes of a GridFS file in order, fetched a few chunks at a time as the reader asks for
 * them, starting at the chunk that holds the range's first byte.
 */
export function openChunkStream(
  chunks: Collection<ChunkDocument>,
  file: StoredFileLayout,
  range: ByteRange = { start: 0, end: file.length - 1 },
): Readable {
  if (file.length === 0) return Readable.from([]);
  return Readable.from(chunksOf(chunks, file, range), { objectMode: false });
}

/**
 * Rejects with `MissingChunksError` unless the file's first and last chunks are both stored.
 * That is proof enough that none went missing: a file's chunks are written in order of `n`, and
 * every path that removes chunks takes all of a file's at once, so a removal since the first
 * write took chunk 0, and the last is there if the write got to its end. Two lookups of one
 * chunk each, rather than a count, which FerretDB answers by reading every chunk of the file
 * (0.2 to 0.45 s for a 36 MB image, against 1.7 to 2.7 s for its upload; the two lookups take 5 to 10 ms).
 */
export async function expectChunksKept(chunks: Collection<ChunkDocument>, file: StoredFileLayout): Promise<void> {
  const expected = Math.ceil(file.length / file.chunkSize);
  if (expected === 0) return;
  const probed = [...new Set([0, expected - 1])];
  const found = await Promise.all(probed.map((n) => chunks.findOne({ files_id: file.id, n }, { projection: { _id: 1 } })));
  const present = found.filter((chunk) => chunk !== null).length;
  if (present !== probed.length) throw new MissingChunksError(file.id.toHexString(), probed.length - present, probed);
}
