import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../../src/database/embedded-database';
import { childPids, waitUntilIdle } from './idle';

export interface BenchDatabase {
  readonly uri: string;
  readonly description: string;
  /** The database's own processes. */
  readonly pids: readonly number[];
  /** Resolves once they have stopped using the CPU. */
  waitUntilIdle(): Promise<void>;
  /** Drops a GridFS bucket's two collections, so that upload phases do not fill the disk. */
  dropBucket(bucketName: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchDatabase(dataDir: string): Promise<BenchDatabase> {
  const embedded = await startEmbeddedDatabase({ dataDir, logger: pino({ level: 'warn' }) });
  // Started before any server: every child process there is now belongs to the database.
  const pids = await childPids(process.pid);
  let client: MongoClient;
  try {
    client = await MongoClient.connect(embedded.uri);
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return {
    uri: embedded.uri,
    description: embedded.description,
    pids,
    waitUntilIdle: () => waitUntilIdle(pids, 'the database'),
    dropBucket: async (bucketName) => {
      const db = client.db();
      const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map(({ name }) => name));
      for (const suffix of ['files', 'chunks']) {
        const name = `${bucketName}.${suffix}`;
        if (existing.has(name)) await db.dropCollection(name);
      }
    },
    stop: async () => {
      try {
        await client.close();
      } finally {
        await embedded.stop();
      }
    },
  };
}
