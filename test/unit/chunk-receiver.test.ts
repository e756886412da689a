import { Readable } from 'node:stream';
import fc from 'fast-check';
import { CorruptUploadError, receiveChunks, unfinishedOffset, type ChunkSink } from '../../src/uploads/resumable/chunk-receiver';

interface Put {
  readonly n: number;
  readonly bytes: Buffer;
  readonly replacing: boolean;
  readonly stored: number;
}

/** Chunks kept in a map, as the bucket's chunks collection keeps them: each `n` holds what was last put there. */
function chunksInMemory(failOn?: number): ChunkSink & { readonly chunks: Map<number, Buffer>; readonly puts: Put[]; readonly arrived: Buffer[] } {
  const chunks = new Map<number, Buffer>();
  const puts: Put[] = [];
  const arrived: Buffer[] = [];
  return {
    chunks,
    puts,
    arrived,
    readStored: (n, length) => Promise.resolve((chunks.get(n) ?? Buffer.alloc(0)).subarray(0, length)),
    put: (n, data, replacing, stored) => {
      if (n === failOn) return Promise.reject(new Error(`chunk ${n} could not be written`));
      const bytes = Buffer.from(data);
      chunks.set(n, bytes);
      puts.push({ n, bytes, replacing, stored });
      return Promise.resolve();
    },
    seen: (part) => {
      arrived.push(Buffer.from(part));
    },
  };
}

/** The stored chunks end to end. */
const joined = (chunks: Map<number, Buffer>) =>
  Buffer.concat([...chunks.entries()].sort(([a], [b]) => a - b).map(([, bytes]) => bytes));

/** A body that arrives in parts of these sizes, then the rest in one. */
function partsOf(bytes: Buffer, sizes: readonly number[]): Readable {
  function* parts(): Generator<Buffer> {
    let from = 0;
    for (const size of sizes) {
      yield bytes.subarray(from, from + size);
      from += size;
    }
    if (from < bytes.length) yield bytes.subarray(from);
  }
  return Readable.from(parts());
}

const bytesOf = (length: number) => Buffer.from(Array.from({ length }, (_, index) => index % 251));

describe('receiveChunks', () => {
  test('when a body ends mid-chunk, then that chunk is stored in part, and the next body from there reads it back, completes it and rewrites it', async () => {
    const upload = bytesOf(20);
    const sink = chunksInMemory();

    const first = await receiveChunks(partsOf(upload.subarray(0, 11), [3, 5, 3]), 0, 8, sink);
    const second = await receiveChunks(partsOf(upload.subarray(11), [9]), 11, 8, sink);

    expect(first).toEqual({ stored: 11, failure: undefined });
    expect(second).toEqual({ stored: 20, failure: undefined });
    expect(sink.puts.map(({ n, bytes, replacing, stored }) => ({ n, length: bytes.length, replacing, stored }))).toEqual([
      { n: 0, length: 8, replacing: false, stored: 0 },
      { n: 1, length: 3, replacing: false, stored: 8 },
      { n: 1, length: 8, replacing: true, stored: 11 },
      { n: 2, length: 4, replacing: false, stored: 16 },
    ]);
    expect(joined(sink.chunks)).toEqual(upload);
    expect(Buffer.concat(sink.arrived)).toEqual(upload);
  });

  test('when a body starts on a chunk boundary, then nothing is read back', async () => {
    const upload = bytesOf(16);
    const sink = chunksInMemory();
    const reads: number[] = [];
    const watched = { ...sink, readStored: (n: number, length: number) => (reads.push(n), sink.readStored(n, length)) };

    await receiveChunks(partsOf(upload.subarray(0, 8), []), 0, 8, watched);
    const rest = await receiveChunks(partsOf(upload.subarray(8), []), 8, 8, watched);

    expect(rest.stored).toBe(16);
    expect(reads).toEqual([]);
    expect(sink.puts.every((put) => !put.replacing)).toBe(true);
  });

  test('when the stored part of a chunk is shorter than the offset says, then the upload is corrupt and nothing is written', async () => {
    const sink = chunksInMemory();
    await sink.put(1, bytesOf(2), false, 8);

    const received = await receiveChunks(partsOf(bytesOf(5), []), 11, 8, sink);

    expect(received.stored).toBe(11);
    expect(received.failure).toBeInstanceOf(CorruptUploadError);
    expect(sink.puts).toHaveLength(1);
  });

  test('when the body fails mid-chunk, then the bytes before are stored and the failure is told', async () => {
    const sink = chunksInMemory();
    const broken = new Error('connection reset');
    function* failing(): Generator<Buffer> {
      yield bytesOf(10);
      throw broken;
    }

    const received = await receiveChunks(Readable.from(failing()), 0, 8, sink);

    expect(received).toEqual({ stored: 10, failure: broken });
    expect(joined(sink.chunks)).toEqual(bytesOf(10));
  });

  test('when a chunk cannot be written, then the offset stays at the last chunk written and the failure is told', async () => {
    const sink = chunksInMemory(1);

    const received = await receiveChunks(partsOf(bytesOf(20), [4, 4, 4, 4]), 0, 8, sink);

    expect(received.stored).toBe(8);
    expect(received.failure).toEqual(new Error('chunk 1 could not be written'));
    expect(sink.puts.map((put) => put.n)).toEqual([0]);
  });

  test('when an upload is sent in any PATCHes, each cut anywhere and arriving in any parts, then the chunks hold its bytes exactly', async () => {
    const sending = fc
      .record({
        length: fc.integer({ min: 1, max: 300 }),
        chunkSize: fc.integer({ min: 1, max: 40 }),
        cuts: fc.uniqueArray(fc.integer({ min: 1, max: 299 }), { maxLength: 8 }),
        parts: fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 20 }),
      })
      .map(({ length, chunkSize, cuts, parts }) => ({
        length,
        chunkSize,
        ends: [...cuts.filter((cut) => cut < length).sort((a, b) => a - b), length],
        parts,
      }));
    await fc.assert(
      fc.asyncProperty(sending, async ({ length, chunkSize, ends, parts }) => {
        const upload = bytesOf(length);
        const sink = chunksInMemory();
        const wrong: string[] = [];
        let offset = 0;
        for (const end of ends) {
          const putsBefore = sink.puts.length;
          const received = await receiveChunks(partsOf(upload.subarray(offset, end), parts), offset, chunkSize, sink);
          if (received.stored !== end || received.failure !== undefined) wrong.push(`PATCH to ${end} stored ${received.stored}`);
          for (const put of sink.puts.slice(putsBefore)) {
            if (put.bytes.length > chunkSize) wrong.push(`chunk ${put.n} holds ${put.bytes.length} bytes`);
            // Only the chunk the PATCH starts in may hold bytes already, and every earlier byte is stored.
            if (put.replacing !== put.n * chunkSize < offset) wrong.push(`chunk ${put.n} from ${offset}: replacing ${put.replacing}`);
            if (put.stored !== Math.max(offset, put.n * chunkSize)) wrong.push(`chunk ${put.n} from ${offset}: stored ${put.stored}`);
          }
          offset = end;
        }
        if (![...sink.chunks.values()].slice(0, -1).every((bytes) => bytes.length === chunkSize)) wrong.push('a chunk before the last is not whole');
        if (!joined(sink.chunks).equals(upload)) wrong.push('the chunks do not hold the upload');
        if (wrong.length > 0) throw new Error(wrong.join('; '));
      }),
      { numRuns: 200 },
    );
  });
});

describe('unfinishedOffset', () => {
  test.each([
    { stored: 0, length: 10, chunkSize: 4, recorded: 0 },
    { stored: 9, length: 10, chunkSize: 4, recorded: 9 },
    { stored: 10, length: 10, chunkSize: 4, recorded: 8 },
    { stored: 8, length: 8, chunkSize: 4, recorded: 4 },
    { stored: 1, length: 1, chunkSize: 4, recorded: 0 },
  ])('when $stored of $length bytes are stored in chunks of $chunkSize and no image is made yet, then $recorded is recorded', ({ stored, length, chunkSize, recorded }) => {
    expect(unfinishedOffset(stored, length, chunkSize)).toBe(recorded);
  });
});
