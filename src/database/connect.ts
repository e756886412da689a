import mongoose, { type Connection } from 'mongoose';
import type { Db, ReadPreferenceMode } from 'mongodb';
import { isDatabaseUnavailable } from './database-errors';

export interface DatabaseSettings {
  readonly mongodbTimeoutMs: number;
  readonly writeConcern: 'majority' | number;
  readonly readPreference: ReadPreferenceMode;
}

export interface DatabaseConnection {
  readonly connection: Connection;
  readonly db: Db;
}

/**
 * How long start-up keeps trying to reach the database: a server that was just started (the
 * embedded one, or a container beside ours) may take longer to answer than a short
 * `MONGODB_TIMEOUT_MS`, which is meant for requests, not for start-up.
 */
const STARTUP_WAIT_MS = 30_000;

/**
 * Operations give up after `mongodbTimeoutMs` without a reachable server, which the API answers
 * with 503; the driver keeps trying to reconnect in the background. Write concern and read
 * preference apply to every operation, GridFS included. The first connection is tried again
 * for up to 30 s while the database cannot be reached.
 */
export async function connectDatabase(uri: string, settings: DatabaseSettings): Promise<DatabaseConnection> {
  const deadline = Date.now() + STARTUP_WAIT_MS;
  for (;;) {
    try {
      return await connectOnce(uri, settings);
    } catch (error) {
      const unreachable = error instanceof mongoose.Error.MongooseServerSelectionError || isDatabaseUnavailable(error);
      if (!unreachable || Date.now() >= deadline) throw error;
    }
  }
}

async function connectOnce(uri: string, settings: DatabaseSettings): Promise<DatabaseConnection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: settings.mongodbTimeoutMs,
    writeConcern: { w: settings.writeConcern },
    readPreference: settings.readPreference,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false,
    // Command events feed the database timing metrics.
    monitorCommands: true,
  });
  try {
    await connection.asPromise();
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  if (!connection.db) throw new Error('mongoose connected without a database handle');
  return { connection, db: connection.db };
}
