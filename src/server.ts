import type { RequestListener, Server } from 'node:http';
import dotenv from 'dotenv';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { connectDatabase } from './database/connect';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './database/embedded-database';
import { createLifecycle } from './health/lifecycle';
import { createHttpServer } from './http/http-server';
import { createImageRepository, ensureImageIndexes } from './images/image-repository';
import { createOrphanSweeper } from './images/orphan-sweeper';
import { observeDatabaseCommands } from './observability/database-metrics';
import { createMetrics } from './observability/metrics';
import { createLogger, type Logger } from './logger';
import { createVariantRepository, ensureVariantIndexes } from './variants/variant-repository';
import { createVariantSweeper } from './variants/variant-sweeper';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function resolveDatabaseUri(config: Config, logger: Logger): Promise<{ uri: string; embedded?: EmbeddedDatabase }> {
  if (config.mongodbUri) return { uri: config.mongodbUri };
  const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir, logger });
  logger.info({ database: embedded.description, uri: embedded.uri }, 'MONGODB_URI is unset: started the embedded database');
  return { uri: embedded.uri, embedded };
}

function listen(listener: RequestListener, config: Config): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createHttpServer(listener, config);
    server.once('error', reject);
    server.listen(config.port, () => resolve(server));
  });
}

async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  if (config.apiKeys.length === 0) logger.warn('API_KEYS is unset: anyone may upload images');

  const { uri, embedded } = await resolveDatabaseUri(config, logger);
  const { connection, db } = await connectDatabase(uri, config);
  await ensureImageIndexes(db, config.bucketName);
  await ensureVariantIndexes(db, config.bucketName);
  connection.on('disconnected', () => logger.warn('database connection lost'));
  connection.on('reconnected', () => logger.info('database connection back'));
  connection.on('error', (error: unknown) => logger.error({ err: error }, 'database error'));

  const metrics = createMetrics();
  observeDatabaseCommands(connection.getClient(), metrics);
  const lifecycle = createLifecycle();
  const repository = createImageRepository(db, config.bucketName);
  const variantRepository = createVariantRepository(db, config.bucketName);
  const sweeper = createOrphanSweeper({
    repository,
    logger,
    graceSeconds: config.orphanGraceSeconds,
    intervalSeconds: config.orphanSweepIntervalSeconds,
  }).start();
  const variantSweeper = createVariantSweeper({
    repository: variantRepository,
    logger,
    graceSeconds: config.orphanGraceSeconds,
    intervalSeconds: config.orphanSweepIntervalSeconds,
  }).start();
  const server = await listen(createApp({ config, logger, db, repository, variantRepository, metrics, lifecycle }), config);
  logger.info({ port: config.port }, `listening on http://localhost:${config.port}`);

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'shutting down');
    lifecycle.beginShutdown();
    // Requests still running after this long are cut, so that a stuck client cannot hold the exit.
    const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS).unref();
    try {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([sweeper.stop(), variantSweeper.stop()]);
      await connection.close();
      await embedded?.stop();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    } finally {
      clearTimeout(deadline);
    }
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Start-up failed:', error);
  }
  process.exit(1);
});
