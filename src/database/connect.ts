import mongoose, { type Connection } from 'mongoose';
import type { Db } from 'mongodb';

export interface DatabaseConnection {
  readonly connection: Connection;
  readonly db: Db;
}

/**
 * Operations give up after `timeoutMs` without a reachable server, which the API answers
 * with 503; the driver keeps trying to reconnect in the background.
 */
export async function connectDatabase(uri: string, timeoutMs: number): Promise<DatabaseConnection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: timeoutMs,
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
