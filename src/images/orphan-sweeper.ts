import { isDatabaseUnavailable } from '../database/database-errors';
import type { Logger } from '../logger';
import type { ImageRepository } from './image-repository';

export interface OrphanSweeperOptions {
  readonly repository: Pick<ImageRepository, 'findOrphanedFileIds' | 'deleteOrphan'>;
  readonly logger: Logger;
  /** Chunks of a file without a file document are left alone until their newest is this old. */
  readonly graceSeconds: number;
  readonly intervalSeconds: number;
}

export interface RemovedOrphan {
  readonly fileId: string;
  readonly chunks: number;
}

export interface RunningSweeper {
  /** Stops the schedule and resolves once a sweep under way has ended. */
  stop(): Promise<void>;
}

export interface OrphanSweeper {
  /** One sweep now; while one is under way, that one's result. Never rejects. */
  sweep(): Promise<RemovedOrphan[]>;
  /** Sweeps now, then `intervalSeconds` after each sweep ends, so that sweeps never overlap. */
  start(): RunningSweeper;
}

/**
 * Removes the chunks that uploads cut off by a crash, a kill or a failed cleanup left
 * behind. Failures are logged and the next sweep tries again: a database that is away now
 * is no reason to stop the process.
 */
export function createOrphanSweeper(options: OrphanSweeperOptions): OrphanSweeper {
  const { repository, logger, graceSeconds, intervalSeconds } = options;
  let running: Promise<RemovedOrphan[]> | undefined;
  let stopped = false;

  async function removeOrphans(): Promise<RemovedOrphan[]> {
    const olderThan = new Date(Date.now() - graceSeconds * 1000);
    const removed: RemovedOrphan[] = [];
    for (const fileId of await repository.findOrphanedFileIds(olderThan)) {
      if (stopped) break;
      const chunks = await repository.deleteOrphan(fileId);
      logger.info({ fileId, chunks }, 'removed the chunks of an upload that never finished');
      removed.push({ fileId, chunks });
    }
    return removed;
  }

  async function sweepOnce(): Promise<RemovedOrphan[]> {
    try {
      return await removeOrphans();
    } catch (error) {
      const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
      logger[level]({ err: error }, `orphan sweep failed; the next one runs in ${intervalSeconds} s`);
      return [];
    } finally {
      running = undefined;
    }
  }

  function sweep(): Promise<RemovedOrphan[]> {
    running ??= sweepOnce();
    return running;
  }

  function start(): RunningSweeper {
    stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const loop = () => {
      void sweep().then(() => {
        // Never the reason the process stays up.
        if (!stopped) timer = setTimeout(loop, intervalSeconds * 1000).unref();
      });
    };
    loop();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    };
  }

  return { sweep, start };
}
