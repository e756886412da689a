import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../../src/database/embedded-database';
import { setSharedDatabase } from './shared-database';

/** One database server for the whole run, unless MONGODB_URI names one already. */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'image-api-test-'));
  const database = await startEmbeddedDatabase({ dataDir, logger: pino({ level: 'warn' }) });
  process.env.MONGODB_URI = database.uri;
  setSharedDatabase({ database, dataDir });
}
