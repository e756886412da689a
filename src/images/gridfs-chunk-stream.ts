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

function expectedChunkLength(file: StoredFileLayout, n: number): number {
  return Math.min(file.chunkSize, file.length - n * file.chunkSize);
}

async function* chunksOf(
  chunks: Collection<ChunkDocument>,
  file: StoredFileLayout,
  range: ByteRange,
): AsyncGenerator<Uint8Array> {
  const first = Math.floor(range.start / file.chunkSize);
  const last = Math.floor(range.end / file.chunkSize);
  const count = last - first + 1;
  // With the limit, the server closes the cursor with the last chunk instead of waiting for one more getMore.
  const batchSize = Math.min(count, Math.max(1, Math.floor(BATCH_BYTES / file.chunkSize)));
  const cursor = chunks
    .find(
      { files_id: file.id, n: { $gte: first, $lte: last } },
      { limit: count, batchSize, projection: { _id: 0, n: 1, data: 1 } },
    )
    .sort({ n: 1 });
  let expected = first;
  for await (const chunk of cursor) {
    const bytes = chunk.data.buffer;
    if (chunk.n !== expected || bytes.length !== expectedChunkLength(file, expected)) {
      throw new CorruptFileError(`chunk ${expected} of file ${file.id.toHexString()} is missing or has the wrong size`);
    }
    const offset = expected * file.chunkSize;
    yield bytes.subarray(Math.max(0, range.start - offset), range.end - offset + 1);
    expected += 1;
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
