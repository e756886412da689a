import type { RequestListener, Server } from 'node:http';
import dotenv from 'dotenv';
import { createApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { connectDatabase } from './database/connect';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './database/embedded-database';
import { createLifecycle } from './health/lifecycle';
import { watchConnectionsForDrain, type ConnectionDrain } from './http/connection-drain';
import { createHttpServer } from './http/http-server';
import { createImageRepository, ensureImageIndexes } from './images/image-repository';
import { createOrphanSweeper } from './images/orphan-sweeper';
import { observeDatabaseCommands } from './observability/database-metrics';
import { createMetrics } from './observability/metrics';
import { createLogger, type Logger } from './logger';

/**
 * After the requests in flight are cut off, the longest their cleanup (and a sweep under way)
 * may take before the connection closes under it; what is left, a later sweep removes.
 */
const CLEANUP_DEADLINE_MS = 5000;

async function resolveDatabaseUri(config: Config, logger: Logger): Promise<{ uri: string; embedded?: EmbeddedDatabase }> {
  if (config.mongodbUri) return { uri: config.mongodbUri };
  const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir, logger });
  logger.info({ database: embedded.description, uri: embedded.uri }, 'MONGODB_URI is unset: started the embedded database');
  return { uri: embedded.uri, embedded };
}

function listen(listener: RequestListener, config: Config): Promise<ConnectionDrain> {
  return new Promise((resolve, reject) => {
    const server: Server = createHttpServer(listener, config);
    const connections = watchConnectionsForDrain(server);
    server.once('error', reject);
    server.listen(config.port, () => resolve(connections));
  });
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  return Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
}

async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  if (config.apiKeys.length === 0) logger.warn('API_KEYS is unset: anyone may upload images');

  const { uri, embedded } = await resolveDatabaseUri(config, logger);
  const { connection, db } = await connectDatabase(uri, config);
  await ensureImageIndexes(db, config.bucketName);
  connection.on('disconnected', () => logger.warn('database connection lost'));
  connection.on('reconnected', () => logger.info('database connection back'));
  connection.on('error', (error: unknown) => logger.error({ err: error }, 'database error'));

  const metrics = createMetrics();
  observeDatabaseCommands(connection.getClient(), metrics);
  const lifecycle = createLifecycle();
  const repository = createImageRepository(db, config.bucketName);
  const sweeper = createOrphanSweeper({
    repository,
    logger,
    graceSeconds: config.orphanGraceSeconds,
    intervalSeconds: config.orphanSweepIntervalSeconds,
  }).start();
  const connections = await listen(createApp({ config, logger, db, repository, metrics, lifecycle }), config);
  logger.info({ port: config.port }, `listening on http://localhost:${config.port}`);

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal, timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutting down: finishing the requests in flight');
    lifecycle.beginShutdown();
    // A sweep cut short loses nothing: what it had not removed yet, the next one finds.
    const sweepStopped = sweeper.stop();
    try {
      const { cutOff } = await connections.drain(config.shutdownTimeoutSeconds * 1000);
      if (cutOff > 0) logger.warn({ cutOff }, 'cut off the requests still in flight at SHUTDOWN_TIMEOUT');
      await withDeadline(Promise.all([repository.settled(), sweepStopped]).then(() => undefined), CLEANUP_DEADLINE_MS);
      await connection.close();
      await embedded?.stop();
      logger.info('shut down');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
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
