import mongoose, { type Connection } from 'mongoose';
import type { Db } from 'mongodb';
import type { Config } from '../config';

export type DatabaseSettings = Pick<Config, 'mongodbTimeoutMs' | 'writeConcern' | 'readPreference'>;

export interface DatabaseConnection {
  readonly connection: Connection;
  readonly db: Db;
}

/**
 * Operations give up after `mongodbTimeoutMs` without a reachable server, which the API answers
 * with 503; the driver keeps trying to reconnect in the background. Write concern and read
 * preference apply to every operation, GridFS included.
 */
export async function connectDatabase(uri: string, settings: DatabaseSettings): Promise<DatabaseConnection> {
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
  await connection.asPromise();
  if (!connection.db) throw new Error('mongoose connected without a database handle');
  return { connection, db: connection.db };
}
