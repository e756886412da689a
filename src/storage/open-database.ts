import type { Connection } from 'mongoose';
import type { Db } from 'mongodb';
import { settledWithin } from '../core/deadline';
import { ensureImageIndexes } from './image-repository';
import { ensureVariantIndexes } from './variant-repository';
import type { Logger } from '../core/logger';
import { connectDatabase, type DatabaseSettings } from '../database/connect';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../database/embedded-database';

export interface OpenDatabase {
  /** What other processes of this server connect to. */
  readonly uri: string;
  readonly connection: Connection;
  readonly db: Db;
  /** Closes the connection, then stops the embedded database if this process started it. */
  close(): Promise<void>;
}

/**
 * Closing ends the client's sessions on the server, a courtesy: the driver (7.8) may wait for
 * ever to write that to a connection whose server has just died, so the close waits this long.
 */
const CLOSE_DEADLINE_MS = 2000;

export interface DatabaseConfig extends DatabaseSettings {
  /** Unset: the embedded database, started here. */
  readonly mongodbUri: string | undefined;
  readonly dataDir: string;
  readonly toolsDir: string | undefined;
  readonly bucketName: string;
}

async function resolveDatabaseUri(config: DatabaseConfig, logger: Logger): Promise<{ uri: string; embedded?: EmbeddedDatabase }> {
  if (config.mongodbUri) return { uri: config.mongodbUri };
  const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir, toolsDir: config.toolsDir, logger });
  logger.info({ database: embedded.description, uri: embedded.uri }, 'MONGODB_URI is unset: started the embedded database');
  return { uri: embedded.uri, embedded };
}

/** Every index the service needs beyond GridFS's own; run at start-up, harmless to repeat. */
export async function ensureIndexes(db: Db, bucketName: string): Promise<void> {
  await ensureImageIndexes(db, bucketName);
  await ensureVariantIndexes(db, bucketName);
}

/** Connects to MONGODB_URI, or to the embedded database it starts when that is unset, with the images' indexes in place. */
export async function openDatabase(config: DatabaseConfig, logger: Logger): Promise<OpenDatabase> {
  const { uri, embedded } = await resolveDatabaseUri(config, logger);
  const { connection, db } = await connectDatabase(uri, config);
  await ensureIndexes(db, config.bucketName);
  // Closing at shutdown disconnects too; only a loss nobody asked for is worth a warning.
  let closing = false;
  connection.on('disconnected', () => {
    if (!closing) logger.warn('database connection lost');
  });
  connection.on('reconnected', () => logger.info('database connection back'));
  connection.on('error', (error: unknown) => logger.error({ err: error }, 'database error'));
  return {
    uri,
    connection,
    db,
    close: async () => {
      closing = true;
      if (!(await settledWithin(connection.close(), CLOSE_DEADLINE_MS))) {
        logger.warn({ waitedMs: CLOSE_DEADLINE_MS }, 'the database connection did not close in time; leaving it');
      }
      await embedded?.stop();
    },
  };
}
