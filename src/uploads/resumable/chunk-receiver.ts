/** Where received bytes go, one GridFS chunk at a time. */
export interface ChunkSink {
  /** The part of chunk `n` already stored: the first `length` bytes, which the next bytes complete. */
  readStored(n: number, length: number): Promise<Buffer>;
  /** Stores chunk `n`; `replacing` when part of it is stored already. `stored` is the offset durable before it. */
  put(n: number, data: Uint8Array, replacing: boolean, stored: number): Promise<void>;
  /** Every byte as it arrives, before it is stored. */
  seen(part: Buffer): void;
}

export interface Received {
  /** Bytes durably stored from the start of the upload. */
  readonly stored: number;
  /** Why receiving stopped early, if it did; what arrived before is stored all the same. */
  readonly failure: unknown;
}

export class CorruptUploadError extends Error {
  override readonly name = 'CorruptUploadError';
}

/**
 * Writes a request body into chunks of `chunkSize` from `start`, holding at most one chunk in
 * memory. A body that stops mid-chunk leaves that chunk stored in part; the next request at
 * this offset reads it back and completes it.
 */
export async function receiveChunks(source: AsyncIterable<unknown>, start: number, chunkSize: number, sink: ChunkSink): Promise<Received> {
  const chunk = Buffer.allocUnsafe(chunkSize);
  let n = Math.floor(start / chunkSize);
  let filled = 0;
  let storedInChunk = 0;
  let stored = start;
  let failure: unknown;

  const writeChunk = async () => {
    await sink.put(n, chunk.subarray(0, filled), storedInChunk > 0, stored);
    stored = n * chunkSize + filled;
    storedInChunk = filled;
  };

  try {
    const prefixLength = start % chunkSize;
    if (prefixLength > 0) {
      const prefix = await sink.readStored(n, prefixLength);
      if (prefix.length < prefixLength) throw new CorruptUploadError(`chunk ${n} holds ${prefix.length} of its ${prefixLength} stored bytes`);
      filled = storedInChunk = prefix.copy(chunk, 0, 0, prefixLength);
    }
    for await (const part of source) {
      const bytes = part as Buffer;
      sink.seen(bytes);
      for (let from = 0; from < bytes.length; ) {
        const copied = bytes.copy(chunk, filled, from);
        from += copied;
        filled += copied;
        if (filled < chunkSize) continue;
        await writeChunk();
        n += 1;
        filled = storedInChunk = 0;
      }
    }
  } catch (error) {
    failure = error;
  }
  try {
    if (filled > storedInChunk) await writeChunk();
  } catch (error) {
    failure ??= error;
  }
  return { stored, failure };
}

/**
 * The offset to record for an upload that is not finished, with `stored` bytes of its `length`
 * stored: never its whole length, which would tell the client it is done. All bytes stored but
 * no image yet (its finish failed): the start of the last chunk, which the client sends again.
 */
export function unfinishedOffset(stored: number, length: number, chunkSize: number): number {
  return stored < length ? stored : Math.floor((length - 1) / chunkSize) * chunkSize;
}
