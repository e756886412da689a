import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import type { Express } from 'express';
import type { Db } from 'mongodb';
import { pino, type Logger } from 'pino';
import { createApp, createExpressApp, type AppDependencies } from '../../src/app';
import type { WorkLimiter } from '../../src/core/work-limiter';
import { loadConfig, type Config } from '../../src/config/config';
import { systemClock, type Clock } from '../../src/core/clock';
import { connectDatabase } from '../../src/database/connect';
import { ensureIndexes } from '../../src/storage/open-database';
import { createLifecycle, type Lifecycle } from '../../src/health/lifecycle';
import { createPendingWrites, type PendingWrites } from '../../src/core/pending-writes';
import type { NamedApiKey } from '../../src/access/api-keys';
import type { HttpServerSettings } from '../../src/http/http-server';
import { createImageRepository, type ImageRepository } from '../../src/storage/image-repository';
import { observeDatabaseCommands } from '../../src/observability/database-metrics';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createVariantRepository, type StoredVariant, type VariantRepository } from '../../src/storage/variant-repository';

/** What the app and its HTTP server are given; the server's part is used by `listen`. */
export type TestConfig = AppDependencies['config'] & HttpServerSettings & Pick<Config, 'bucketName'>;

/** The defaults a server started with no settings would have, but no rate limits: their own tests set them. */
export const defaultTestConfig: TestConfig = { ...loadConfig({}), uploadRateLimit: 0, apiKeyFailureLimit: 0 };

/** Keys as API_KEYS lists them, named client-1, client-2 and so on. */
export function namedKeys(...keys: readonly string[]): NamedApiKey[] {
  return keys.map((key, index) => ({ name: `client-${index + 1}`, key, admin: false }));
}

export interface TestApp {
  /** The app as served: the lean read path in front of Express. */
  readonly app: RequestListener;
  /** Every request through Express alone, to show both paths answer alike. */
  readonly expressApp: Express;
  readonly db: Db;
  /** The app's own repository: it knows which uploads the app is writing. */
  readonly repository: ImageRepository;
  readonly variantRepository: VariantRepository;
  readonly config: TestConfig;
  readonly metrics: Metrics;
  /** The shutdown barrier both repositories count their writes in. */
  readonly writes: PendingWrites;
  readonly lifecycle: Lifecycle;
  /** How many files and chunks the bucket holds, as a user inspecting the database would count them. */
  readonly stored: () => Promise<{ files: number; chunks: number }>;
  /** Every stored variant of an original, oldest first. */
  readonly variantsOf: (originalId: string) => Promise<StoredVariant[]>;
  /** The same for the variants' bucket, and how many variants are claimed. */
  readonly storedVariants: () => Promise<{ files: number; chunks: number; claimed: number }>;
  /**
   * How many times the app has read a file's chunk data from its first chunk, as the database's
   * command log shows the queries: one a read, however many queries its later chunks take;
   * lookups that fetch no data do not count.
   */
  readonly fileReadsOf: (fileId: string) => number;
  /** Cuts the app off its database: whatever it still answers comes from memory. */
  disconnect(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly config?: Partial<TestConfig>;
  readonly uri?: string;
  readonly timeoutMs?: number;
  /** Where the app logs; by default nowhere. */
  readonly logger?: Logger;
  /** Another app's database, for two instances sharing one; by default a database of its own. */
  readonly databaseName?: string;
  /** The limiter of frame counts both apps share, for a test to hold its places. */
  readonly inspections?: WorkLimiter;
  /** What the app's expiries and times to live are measured by; a test's own clock moves time forward. */
  readonly clock?: Clock;
}

/** The projection of a lookup that fetches no chunk data: an upload checking that its chunks are there. */
const ID_ONLY = { _id: 1 };

/** Whether a chunk query's filter on `n` asks for the first chunk: none, or `$in` holding 0. */
function asksFirstChunk(filter: unknown): boolean {
  const { n } = (filter ?? {}) as { n?: unknown };
  if (n === undefined) return true;
  const { $in: numbers } = (n ?? {}) as { $in?: unknown };
  return Array.isArray(numbers) && numbers.includes(0);
}

function sharedUri(): string {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('MONGODB_URI is not set: the jest globalSetup starts the test database');
  return uri;
}

/** The test database server's URI with a database of its own, for a server process under test. */
export function uriOfNewDatabase(): string {
  return sharedUri().replace(/^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?[^?]*/, `$1/test-${randomUUID().slice(0, 8)}`);
}

/** The app on a database of its own, so tests running side by side never see each other's images. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = { ...defaultTestConfig, ...options.config };
  const { connection } = await connectDatabase(options.uri ?? sharedUri(), {
    ...loadConfig({}),
    mongodbTimeoutMs: options.timeoutMs ?? 5000,
  });
  const db = connection.getClient().db(options.databaseName ?? `test-${randomUUID().slice(0, 8)}`);
  await ensureIndexes(db, config.bucketName);
  const writes = createPendingWrites();
  const repository = createImageRepository(db, config.bucketName, writes);
  const variantRepository = createVariantRepository(db, config.bucketName, writes);
  const metrics = createMetrics();
  observeDatabaseCommands(connection.getClient(), metrics);
  const lifecycle = createLifecycle();
  const logger = options.logger ?? pino({ level: 'silent' });
  const deps = {
    config,
    logger,
    clock: options.clock ?? systemClock,
    db,
    repository,
    variantRepository,
    metrics,
    writes,
    lifecycle,
    ...(options.inspections ? { inspections: options.inspections } : {}),
  };
  const fileReads = new Map<string, number>();
  connection.getClient().on('commandStarted', ({ commandName, databaseName, command }) => {
    if (commandName !== 'find' || databaseName !== db.databaseName || command.find !== `${config.bucketName}.chunks`) return;
    if (isDeepStrictEqual(command.projection, ID_ONLY) || !asksFirstChunk(command.filter)) return;
    const fileId = String((command.filter as { files_id?: unknown } | undefined)?.files_id);
    fileReads.set(fileId, (fileReads.get(fileId) ?? 0) + 1);
  });
  const count = (collection: string) => db.collection(collection).countDocuments();
  const variants = `${config.bucketName}.variants`;
  return {
    app: createApp(deps),
    expressApp: createExpressApp(deps),
    db,
    repository,
    variantRepository,
    config,
    metrics,
    writes,
    lifecycle,
    stored: async () => ({
      files: await db.collection(`${config.bucketName}.files`).countDocuments(),
      chunks: await db.collection(`${config.bucketName}.chunks`).countDocuments(),
    }),
    variantsOf: (originalId) => variantRepository.listOf(originalId, Number.MAX_SAFE_INTEGER),
    storedVariants: async () => ({
      files: await count(`${variants}.files`),
      chunks: await count(`${variants}.chunks`),
      claimed: await count(variants),
    }),
    fileReadsOf: (fileId) => fileReads.get(fileId) ?? 0,
    disconnect: () => connection.close(),
    close: async () => {
      await db.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}
