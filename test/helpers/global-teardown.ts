import { rm } from 'node:fs/promises';
import { takeSharedDatabase } from './shared-database';

export default async function globalTeardown(): Promise<void> {
  const shared = takeSharedDatabase();
  if (!shared) return;
  await shared.database.stop();
  await rm(shared.dataDir, { recursive: true, force: true });
}
