import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { ObjectId } from 'mongodb';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeLargePng } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';

// Without the cache every read streams from GridFS, which is the path under test here.
const running = useListeningTestApp({ config: { cacheMaxBytes: 0 } });

const CHUNK = 255 * 1024;
/** Chunks of one query: 2 MiB of default-sized chunks. */
const CHUNKS_PER_BATCH = 8;
/** Three batches: 8, 8 and 4 chunks. */
const CHUNKS = 20;

let bytes: Buffer;
let id: string;

beforeAll(async () => {
  bytes = await makeLargePng((CHUNKS - 1) * CHUNK + 1000);
  ({ id } = onlyUploadedImage(await upload(running.api.app, [{ bytes, filename: 'batches.png' }])));
  expect(await running.api.db.collection('images.chunks').countDocuments({ files_id: new ObjectId(id) })).toBe(CHUNKS);
});

interface ChunkQueries {
  /** The chunk numbers each query asked, in the order they were sent. */
  readonly asked: number[][];
  /** The most queries that were under way at once. */
  readonly mostAtOnce: () => number;
  stop(): void;
}

/** Watches the chunk queries for the image the app sends, as the database's command log shows them. */
function watchChunkQueries(): ChunkQueries {
  const client = running.api.db.client;
  const asked: number[][] = [];
  const underWay = new Set<number>();
  let most = 0;
  const started = ({ commandName, command, requestId }: CommandStartedEvent) => {
    const filter = command.filter as { files_id?: unknown; n?: { $in?: number[] } } | undefined;
    if (commandName !== 'find' || command.find !== 'images.chunks' || String(filter?.files_id) !== id || !filter?.n?.$in) return;
    asked.push(filter.n.$in);
    underWay.add(requestId);
    most = Math.max(most, underWay.size);
  };
  const ended = ({ requestId }: CommandSucceededEvent) => underWay.delete(requestId);
  client.on('commandStarted', started);
  client.on('commandSucceeded', ended);
  client.on('commandFailed', ended);
  return {
    asked,
    mostAtOnce: () => most,
    stop: () => {
      client.off('commandStarted', started);
      client.off('commandSucceeded', ended);
      client.off('commandFailed', ended);
    },
  };
}

function numbers(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

test('when an image of several batches is read, then its bytes come back exact, from one query a batch, two at most under way', async () => {
  const queries = watchChunkQueries();
  try {
    const response = await download(running.api.app, `/image/${id}`);

    expect(response.status).toBe(200);
    expect(response.bytes.equals(bytes)).toBe(true);
    expect(queries.asked).toEqual([numbers(0, 7), numbers(8, 15), numbers(16, 19)]);
    expect(queries.mostAtOnce()).toBeLessThanOrEqual(2);
  } finally {
    queries.stop();
  }
});

test('when a range spans the end of one batch and the start of the next, then exactly those bytes, from those chunks only', async () => {
  const start = (CHUNKS_PER_BATCH - 1) * CHUNK + 100;
  const end = (CHUNKS_PER_BATCH + 1) * CHUNK + 200;
  const queries = watchChunkQueries();
  try {
    const response = await download(running.api.app, `/image/${id}`, { Range: `bytes=${start}-${end}` });

    expect(response.status).toBe(206);
    expect(response.bytes.equals(bytes.subarray(start, end + 1))).toBe(true);
    expect(queries.asked).toEqual([numbers(CHUNKS_PER_BATCH - 1, CHUNKS_PER_BATCH + 1)]);
  } finally {
    queries.stop();
  }
});

test('when a chunk of a later batch is missing, then the download is cut short instead of completed', async () => {
  const damagedBytes = await makeLargePng((CHUNKS - 1) * CHUNK + 1000);
  const { id: damaged } = onlyUploadedImage(await upload(running.api.app, [{ bytes: damagedBytes, filename: 'damaged.png' }]));
  await running.api.db.collection('images.chunks').deleteOne({ files_id: new ObjectId(damaged), n: CHUNKS_PER_BATCH + 2 });

  const response = await fetch(`http://127.0.0.1:${running.server.port}/image/${damaged}`);
  const body = await response.arrayBuffer().then(
    () => 'complete',
    () => 'cut short',
  );

  expect(response.status).toBe(200);
  expect(body).toBe('cut short');
});
