import cluster from 'node:cluster';
import type { RequestListener, Server } from 'node:http';
import dotenv from 'dotenv';
import { createApp } from './app';
import { metricsOfTheCluster } from './cluster/cluster-metrics';
import { runPrimary } from './cluster/primary';
import { loadConfig, type Config } from './config/config';
import { ConfigError } from './core/config-error';
import { NoEmbeddedDatabaseError } from './database/embedded-database';
import { openDatabase } from './storage/open-database';
import { systemClock } from './core/clock';
import { settledWithin } from './core/deadline';
import { createPendingWrites } from './core/pending-writes';
import { createLifecycle } from './health/lifecycle';
import { watchConnectionsForDrain, type ConnectionDrain } from './http/connection-drain';
import { createHttpServer } from './http/http-server';
import { createImageRepository } from './storage/image-repository';
import type { RunningSweeper } from './maintenance/periodic-sweep';
import { observeDatabaseCommands } from './observability/database-metrics';
import { createMetrics } from './observability/metrics';
import { createLogger, type Logger } from './core/logger';
import { startSweeps } from './maintenance/sweeps';
import { createVariantRepository } from './storage/variant-repository';

/**
 * After the requests in flight are cut off, the longest their cleanup (and a sweep under way)
 * may take before the connection closes under it; what is left, a later sweep removes.
 */
const CLEANUP_DEADLINE_MS = 5000;

function listen(listener: RequestListener, config: Config): Promise<ConnectionDrain> {
  return new Promise((resolve, reject) => {
    const server: Server = createHttpServer(listener, config);
    const connections = watchConnectionsForDrain(server);
    server.once('error', reject);
    server.listen(config.port, () => resolve(connections));
  });
}

/** A sweep where there is one process; in a cluster, the primary sweeps for all. */
const noSweeper: RunningSweeper = { stop: () => Promise.resolve() };

/** The process that serves requests: the only one, or one worker of a cluster. */
async function serve(config: Config, logger: Logger): Promise<void> {
  const database = await openDatabase(config, logger);
  const { connection, db } = database;
  const metrics = cluster.isWorker ? metricsOfTheCluster(createMetrics()) : createMetrics();
  observeDatabaseCommands(connection.getClient(), metrics);
  const lifecycle = createLifecycle();
  // Originals, variants and resumable uploads count their writes here, for shutdown to wait on.
  const writes = createPendingWrites();
  const repository = createImageRepository(db, config.bucketName, writes);
  const variantRepository = createVariantRepository(db, config.bucketName, writes);
  const sweeper = cluster.isWorker ? noSweeper : startSweeps({ repository, variantRepository }, config, logger);
  const app = createApp({ config, logger, clock: systemClock, db, repository, variantRepository, metrics, writes, lifecycle });
  const connections = await listen(app, config);
  if (cluster.isPrimary) logger.info({ port: config.port }, `listening on http://localhost:${config.port}`);

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal, timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutting down: finishing the requests in flight');
    lifecycle.beginShutdown();
    const sweepStopped = sweeper.stop();
    try {
      const { cutOff } = await connections.drain(config.shutdownTimeoutSeconds * 1000);
      if (cutOff > 0) logger.warn({ cutOff }, 'cut off the requests still in flight at SHUTDOWN_TIMEOUT');
      await settledWithin(Promise.all([writes.settled(), sweepStopped]), CLEANUP_DEADLINE_MS);
      await database.close();
      logger.info('shut down');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, (received) => {
      if (!stopping) {
        stopping = true;
        void shutdown(received);
        return;
      }
      // A terminal's Ctrl-C reaches a worker both from the terminal and from its primary, which decides when to force.
      if (cluster.isWorker) return;
      logger.warn({ signal: received }, 'a second signal: stopping now');
      process.exit(1);
    });
  }
}

async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  if (cluster.isPrimary && config.apiKeys.length === 0) logger.warn('API_KEYS is unset: anyone may upload images');
  if (cluster.isPrimary && config.webConcurrency > 1) {
    await runPrimary(config, logger);
  } else {
    await serve(config, logger);
  }
}

main().catch((error: unknown) => {
  // Both say all there is to say: where the stack was thrown would only bury it.
  if (error instanceof ConfigError || error instanceof NoEmbeddedDatabaseError) {
    console.error(error.message);
  } else {
    console.error('Start-up failed:', error);
  }
  process.exit(1);
});
