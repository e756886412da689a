import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { AppError } from '../errors/app-error';

/** Seconds a client should wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The driver (7.8) hands on the socket's own error, not a MongoNetworkError, when the database
 * goes away while a command waits for the socket to take its bytes. The database is the only
 * connection a request writes to besides the client's, and a client that goes away ends its
 * request as an abort or a premature close, not as this error.
 */
function isBrokenDatabaseWrite(error: unknown): boolean {
  const { syscall, code } = (error ?? {}) as { syscall?: unknown; code?: unknown };
  return error instanceof Error && syscall === 'write' && (code === 'ECONNRESET' || code === 'EPIPE');
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    isBrokenDatabaseWrite(error)
  );
}

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('database-unavailable', 'The database cannot be reached right now; try again shortly.', {
    cause,
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}
