import path from 'node:path';
import { DryMongoBinary, MongoBinary, MongoMemoryServer } from 'mongodb-memory-server';
import type { Logger } from '../core/logger';
import { canRunFerretDb, startFerretDb } from './ferretdb';
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
  /** Where FerretDB's binary is built and looked for; unset: the project's `.tools/`. */
  readonly toolsDir?: string | undefined;
  readonly logger: Logger;
}

/** MONGODB_URI is unset and none of the embedded servers can start: the message says what to do, and is enough. */
export class NoEmbeddedDatabaseError extends Error {
  override readonly name = 'NoEmbeddedDatabaseError';
}

/**
 * Looks for a mongod that mongodb-memory-server could use without downloading one
 * (MONGOMS_SYSTEM_BINARY or its download cache); a download is the last choice of all.
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

async function startFerretDbDatabase(dataDir: string, port: number, options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const sqliteDir = path.join(dataDir, 'ferretdb');
  const server = await startFerretDb({ dataDir: sqliteDir, port, toolsDir: options.toolsDir, logger: options.logger });
  return {
    uri: `mongodb://127.0.0.1:${port}/${DATABASE_NAME}`,
    description: `FerretDB (SQLite), data in ${sqliteDir}`,
    stop: () => server.stop(),
  };
}

/** Where mongodb-memory-server downloads mongod from (its own settings, else MongoDB's server). */
function mongodDownloadSource(): string {
  return process.env.MONGOMS_DOWNLOAD_URL ?? process.env.MONGOMS_DOWNLOAD_MIRROR ?? 'https://fastdl.mongodb.org';
}

const DOWNLOAD_PROBE_TIMEOUT_MS = 1500;

/**
 * One request with a short limit, whose answer, whatever its status, shows the network lets us
 * through: offline, the download itself would fail only after several seconds of retries.
 * Undefined when reachable, else why not.
 */
async function whyUnreachable(url: string): Promise<string | undefined> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(DOWNLOAD_PROBE_TIMEOUT_MS) });
    return undefined;
  } catch (error) {
    const { cause } = error as { cause?: { code?: unknown } };
    if (typeof cause?.code === 'string') return cause.code;
    return error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${DOWNLOAD_PROBE_TIMEOUT_MS} ms` : String(error);
  }
}

function noEmbeddedDatabase(downloadFailure: string): NoEmbeddedDatabaseError {
  return new NoEmbeddedDatabaseError(
    [
      'MONGODB_URI is unset, and no database can be started here: no mongod was found, Go is not',
      `installed to build FerretDB with, and mongod could not be downloaded (${downloadFailure}).`,
      'Any one of these fixes it:',
      '  - set MONGODB_URI to a MongoDB server of yours (in the environment or in .env);',
      '  - install Go (https://go.dev/dl/): npm start then builds FerretDB, once;',
      '  - install mongod and set MONGOMS_SYSTEM_BINARY to its path, or allow downloads from',
      `    ${mongodDownloadSource()} so that a mongod is downloaded, once.`,
    ].join('\n'),
  );
}

/** The last way: a mongod downloaded by mongodb-memory-server into its cache, where the next start finds it. */
async function downloadMongod(logger: Logger): Promise<string> {
  const source = mongodDownloadSource();
  const unreachable = await whyUnreachable(source);
  if (unreachable) throw noEmbeddedDatabase(`${source}: ${unreachable}`);
  logger.info({ source }, 'no mongod here and no Go to build FerretDB with: downloading mongod (once)');
  try {
    return await MongoBinary.getPath();
  } catch (error) {
    throw noEmbeddedDatabase(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Starts a local MongoDB-compatible server, the first that can run of: a mongod already on the
 * machine, FerretDB (built, or Go to build it), a mongod downloaded when the network allows.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  const mongod = await findMongod();
  if (mongod) return startMongod(mongod, dataDir, port);
  if (canRunFerretDb(options.toolsDir)) return startFerretDbDatabase(dataDir, port, options);
  return startMongod(await downloadMongod(options.logger), dataDir, port);
}
