import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../../src/database/embedded-database';
import { buildPage } from '../../tools/build-page';
import { setSharedDatabase } from './shared-database';

/**
 * The web page, built as `npm run build` builds it (CI starts from a clean clone, with no
 * dist/), and one database server for the whole run, unless MONGODB_URI names one already.
 */
export default async function globalSetup(): Promise<void> {
  await buildPage();
  if (process.env.MONGODB_URI) return;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'image-api-test-'));
  const database = await startEmbeddedDatabase({ dataDir, logger: pino({ level: 'warn' }) });
  process.env.MONGODB_URI = database.uri;
  setSharedDatabase({ database, dataDir });
}
