/**
 * How long an orphan sweep takes on the embedded database (FerretDB here), with many stored
 * files: one sweep that finds nothing, then one that removes orphans. A measurement, not a
 * test. Run it with
 *
 *   node -r ts-node/register/transpile-only test/bench/orphan-sweep.ts
 *
 * ORPHAN_BENCH_FILES, ORPHAN_BENCH_CHUNKS_PER_FILE and ORPHAN_BENCH_ORPHANS change the sizes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Binary, MongoClient, ObjectId, type CommandStartedEvent, type Db } from 'mongodb';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock';
import { startEmbeddedDatabase } from '../../src/database/embedded-database';
import { createPendingWrites } from '../../src/core/pending-writes';
import { createImageRepository, ensureImageIndexes } from '../../src/storage/image-repository';
import { createOrphanSweeper } from '../../src/maintenance/orphan-sweeper';
import { objectIdFrom } from '../helpers/chunks';

const BUCKET = 'images';
const CHUNK_BYTES = 64 * 1024;
const GRACE_SECONDS = 600;
/** Old enough that every orphan is past the grace. */
const ORPHAN_AGE_SECONDS = 2 * GRACE_SECONDS;
const FILES_PER_INSERT = 50;

function sizeFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

const sizes = {
  files: sizeFromEnv('ORPHAN_BENCH_FILES', 2000),
  chunksPerFile: sizeFromEnv('ORPHAN_BENCH_CHUNKS_PER_FILE', 4),
  orphans: sizeFromEnv('ORPHAN_BENCH_ORPHANS', 20),
};

function chunksOf(filesId: ObjectId, secondsAgo: number): { _id: ObjectId; files_id: ObjectId; n: number; data: Binary }[] {
  const data = new Binary(Buffer.alloc(CHUNK_BYTES, 7));
  return Array.from({ length: sizes.chunksPerFile }, (_, n) => ({
    _id: objectIdFrom(secondsAgo),
    files_id: filesId,
    n,
    data,
  }));
}

async function seedStoredFiles(db: Db, count: number): Promise<void> {
  for (let start = 0; start < count; start += FILES_PER_INSERT) {
    const ids = Array.from({ length: Math.min(FILES_PER_INSERT, count - start) }, () => new ObjectId());
    await db.collection(`${BUCKET}.chunks`).insertMany(ids.flatMap((id) => chunksOf(id, ORPHAN_AGE_SECONDS)));
    await db.collection(`${BUCKET}.files`).insertMany(
      ids.map((id) => ({
        _id: id,
        length: CHUNK_BYTES * sizes.chunksPerFile,
        chunkSize: CHUNK_BYTES,
        uploadDate: new Date(),
        filename: `${id.toHexString()}.png`,
        metadata: { contentType: 'image/png' },
      })),
    );
  }
}

async function seedOrphans(db: Db, count: number): Promise<void> {
  const ids = Array.from({ length: count }, () => new ObjectId());
  if (ids.length > 0) await db.collection(`${BUCKET}.chunks`).insertMany(ids.flatMap((id) => chunksOf(id, ORPHAN_AGE_SECONDS)));
}

/** Commands sent by name since the last `take`: what a sweep costs in round trips, not only in time. */
function commandCounter(client: MongoClient): { take(): string } {
  let counts = new Map<string, number>();
  client.on('commandStarted', (event: CommandStartedEvent) => {
    counts.set(event.commandName, (counts.get(event.commandName) ?? 0) + 1);
  });
  return {
    take: () => {
      const taken = [...counts].map(([name, count]) => `${name} ${count}`).join(', ');
      counts = new Map();
      return taken;
    },
  };
}

async function timed<T>(what: string, commands: { take(): string }, run: () => Promise<T>): Promise<T> {
  commands.take();
  const started = performance.now();
  const result = await run();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${what}: ${seconds} s (${commands.take()})\n`);
  return result;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orphan-sweep-bench-'));
  const logger = pino({ level: 'warn' });
  const database = await startEmbeddedDatabase({ dataDir, logger });
  const client = await MongoClient.connect(database.uri, { monitorCommands: true });
  const commands = commandCounter(client);
  try {
    const db = client.db();
    await ensureImageIndexes(db, BUCKET);
    process.stdout.write(`${database.description}\n${JSON.stringify(sizes)}\n`);
    await timed('seed stored files', commands, () => seedStoredFiles(db, sizes.files));
    const sweeper = createOrphanSweeper({
      repository: createImageRepository(db, BUCKET, createPendingWrites()),
      logger,
      graceSeconds: GRACE_SECONDS,
      intervalSeconds: 3600,
      clock: systemClock,
    });
    const nothing = await timed('sweep that finds nothing', commands, () => sweeper.sweep());
    await timed('seed orphans', commands, () => seedOrphans(db, sizes.orphans));
    const removed = await timed(`sweep that removes ${sizes.orphans} orphans`, commands, () => sweeper.sweep());
    const left = await db.collection(`${BUCKET}.chunks`).countDocuments();
    process.stdout.write(`removed ${nothing.length} + ${removed.length} files; ${left} chunks left\n`);
  } finally {
    await client.close();
    await database.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
