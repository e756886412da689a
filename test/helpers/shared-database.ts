import type { EmbeddedDatabase } from '../../src/database/embedded-database';

interface SharedDatabase {
  readonly database: EmbeddedDatabase;
  readonly dataDir: string;
}

/** globalSetup and globalTeardown run in the same process and share its globals. */
const holder = globalThis as typeof globalThis & { imageApiTestDatabase?: SharedDatabase };

export function setSharedDatabase(shared: SharedDatabase): void {
  holder.imageApiTestDatabase = shared;
}

export function takeSharedDatabase(): SharedDatabase | undefined {
  const shared = holder.imageApiTestDatabase;
  delete holder.imageApiTestDatabase;
  return shared;
}
