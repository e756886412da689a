import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import type { Config } from '../config/config';
import { openDatabase } from '../storage/open-database';
import { settledWithin } from '../core/deadline';
import { createPendingWrites } from '../core/pending-writes';
import { createImageRepository } from '../storage/image-repository';
import type { Logger } from '../core/logger';
import { startSweeps } from '../maintenance/sweeps';
import { restartDelayMs, type RestartBackOff } from '../core/restart-delay';
import { createVariantRepository } from '../storage/variant-repository';
import { answerClusterMetricsRequests } from './cluster-metrics';

/** Past each worker's own SHUTDOWN_TIMEOUT and cleanup, how long the primary waits before killing it. */
const WORKER_EXIT_GRACE_MS = 10_000;
/** A sweep cut short loses nothing: what it had not removed yet, the next one finds. */
const SWEEP_STOP_MS = 5000;
/** A worker that dies as it starts is replaced after half a second, then ever more slowly up to 30 s. */
export const WORKER_RESTARTS: RestartBackOff = { stableAfterMs: 30_000, firstDelayMs: 500, longestDelayMs: 30_000 };

function exitOfAll(workers: readonly Worker[]): Promise<unknown> {
  return Promise.all(workers.filter((worker) => !worker.isDead()).map((worker) => once(worker, 'exit')));
}

/**
 * Disconnecting first takes the worker out of the primary's rotation at once: a worker that
 * exits with a connection handed to it but not yet taken would leave that client hanging
 * until the primary exits. The signal then starts the worker's own graceful shutdown.
 */
function stopWorker(worker: Worker, signal: NodeJS.Signals): void {
  if (worker.isConnected()) worker.disconnect();
  worker.process.kill(signal);
}

function runningWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
}

/**
 * Runs WEB_CONCURRENCY workers that share the port (the cluster module hands out the
 * connections), replacing any that dies. The primary serves no request: it starts the embedded
 * database once for all, runs the one orphan sweep, and sums the workers' metrics.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const database = await openDatabase(config, logger);
  // The sweeps' removals are the primary's only writes.
  const writes = createPendingWrites();
  const repositories = {
    repository: createImageRepository(database.db, config.bucketName, writes),
    variantRepository: createVariantRepository(database.db, config.bucketName, writes),
  };
  const sweeper = startSweeps(repositories, config, logger);
  answerClusterMetricsRequests();

  let stopping = false;
  let delayMs = 0;
  const fork = () => {
    const startedAt = Date.now();
    // Workers find the database through this, and so never start one of their own.
    const worker = cluster.fork({ MONGODB_URI: database.uri });
    worker.once('exit', (code: number | null, signal: string | null) => {
      if (stopping) return;
      delayMs = restartDelayMs(WORKER_RESTARTS, Date.now() - startedAt, delayMs);
      logger.error({ pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'a worker died; starting another');
      setTimeout(fork, delayMs);
    });
  };
  for (let started = 0; started < config.webConcurrency; started++) fork();
  cluster.once('listening', () => {
    logger.info({ workers: config.webConcurrency, port: config.port }, `listening on http://localhost:${config.port}`);
  });

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    stopping = true;
    logger.info({ signal }, 'shutting down: each worker finishes its requests in flight');
    const workers = runningWorkers();
    const sweepStopped = sweeper.stop();
    for (const worker of workers) stopWorker(worker, signal);
    if (!(await settledWithin(exitOfAll(workers), config.shutdownTimeoutSeconds * 1000 + WORKER_EXIT_GRACE_MS))) {
      logger.error('workers still running past SHUTDOWN_TIMEOUT; killing them');
      forceExit();
    }
    await settledWithin(Promise.all([sweepStopped, writes.settled()]), SWEEP_STOP_MS);
    await database.close();
    logger.info('shut down');
    process.exit(0);
  };
  const forceExit = () => {
    for (const worker of runningWorkers()) worker.process.kill('SIGKILL');
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, (received) => {
      if (!stopping) {
        void shutdown(received);
        return;
      }
      logger.warn({ signal: received }, 'a second signal: stopping now');
      forceExit();
      process.exit(1);
    });
  }
}
