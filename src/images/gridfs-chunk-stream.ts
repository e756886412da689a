import { Readable } from 'node:stream';
import type { Binary, Collection, ObjectId } from 'mongodb';

/**
 * Chunks fetched per round trip. GridFSBucket's own read stream leaves the batch size to the
 * server, which sends up to 16 MiB per batch on MongoDB and all remaining chunks on FerretDB:
 * that much memory per download, for every download in flight. Four chunks keep it near 1 MiB.
 */
const CHUNKS_PER_BATCH = 4;

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

export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
}

function expectedChunkLength(file: StoredFileLayout, n: number, chunkCount: number): number {
  return n === chunkCount - 1 ? file.length - n * file.chunkSize : file.chunkSize;
}

async function* chunksOf(chunks: Collection<ChunkDocument>, file: StoredFileLayout): AsyncGenerator<Uint8Array> {
  const chunkCount = Math.ceil(file.length / file.chunkSize);
  const cursor = chunks
    .find({ files_id: file.id }, { batchSize: CHUNKS_PER_BATCH, projection: { _id: 0, n: 1, data: 1 } })
    .sort({ n: 1 });
  let expected = 0;
  for await (const chunk of cursor) {
    const bytes = chunk.data.buffer;
    if (chunk.n !== expected || bytes.length !== expectedChunkLength(file, expected, chunkCount)) {
      throw new CorruptFileError(`chunk ${expected} of file ${file.id.toHexString()} is missing or has the wrong size`);
    }
    yield bytes;
    expected += 1;
  }
  if (expected !== chunkCount) {
    throw new CorruptFileError(`file ${file.id.toHexString()} has ${expected} of its ${chunkCount} chunks`);
  }
}

/** The bytes of a GridFS file in order, fetched a few chunks at a time as the reader asks for them. */
export function openChunkStream(chunks: Collection<ChunkDocument>, file: StoredFileLayout): Readable {
  return Readable.from(chunksOf(chunks, file), { objectMode: false });
}
