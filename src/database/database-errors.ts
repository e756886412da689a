import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { AppError } from '../core/app-error';

/** Seconds a client should wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The driver (7.8) hands on the socket's own error, not a MongoNetworkError, when the database
 * goes away while a command is being written: ECONNRESET or EPIPE from the write, or EPIPE for
 * a write after the database closed its end. A client that goes away never fails so: its request
 * ends as an abort (ECONNRESET, from no system call) or a premature close.
 */
function isBrokenDatabaseWrite(error: unknown): boolean {
  const { syscall, code } = (error ?? {}) as { syscall?: unknown; code?: unknown };
  return code === 'EPIPE' || (code === 'ECONNRESET' && syscall === 'write');
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

/** A write refused by a unique index: another writer got there first. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('database-unavailable', 'The database cannot be reached right now; try again shortly.', {
    cause,
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}
