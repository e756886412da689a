import path from 'node:path';
import { DryMongoBinary, MongoMemoryServer } from 'mongodb-memory-server';
import type { Logger } from '../logger';
import { startFerretDb } from './ferretdb';
import { findFreePort } from './ports';

const DATABASE_NAME = 'image-api';

export interface EmbeddedDatabase {
  readonly uri: string;
  /** Which server runs and where it keeps its data, for the start-up log. */
  readonly description: string;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  /** Kept across restarts: the same folder gives back the same images. */
  readonly dataDir: string;
  /** A fixed port lets a stopped server come back where clients expect it. */
  readonly port?: number;
  readonly logger: Logger;
}

/**
 * Looks for a mongod that mongodb-memory-server could use without downloading one
 * (MONGOMS_SYSTEM_BINARY or its download cache); asking it to download would fail here
 * only after several seconds of retries.
 */
async function findMongod(): Promise<string | undefined> {
  return DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions());
}

async function startMongod(binary: string, dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const dbPath = path.join(dataDir, 'mongod');
  const server = await MongoMemoryServer.create({
    binary: { systemBinary: binary },
    instance: { dbPath, port, storageEngine: 'wiredTiger' },
  });
  return {
    uri: server.getUri(DATABASE_NAME),
    description: `mongod ${binary}, data in ${dbPath}`,
    stop: async () => {
      await server.stop({ doCleanup: false });
    },
  };
}

async function startFerretDbDatabase(dataDir: string, port: number, logger: Logger): Promise<EmbeddedDatabase> {
  const sqliteDir = path.join(dataDir, 'ferretdb');
  const server = await startFerretDb({ dataDir: sqliteDir, port, logger });
  return {
    uri: `mongodb://127.0.0.1:${port}/${DATABASE_NAME}`,
    description: `FerretDB (SQLite), data in ${sqliteDir}`,
    stop: () => server.stop(),
  };
}

/** Starts a local MongoDB-compatible server: a real mongod when one is at hand, else FerretDB. */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  const mongod = await findMongod();
  return mongod
    ? startMongod(mongod, dataDir, port)
    : startFerretDbDatabase(dataDir, port, options.logger);
}
