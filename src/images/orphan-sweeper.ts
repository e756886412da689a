import { isDatabaseUnavailable } from '../database/database-errors';
import type { Logger } from '../logger';
import { IDS_PER_BATCH } from './gridfs-orphans';
import type { ImageRepository, Orphan } from './image-repository';

export interface OrphanSweeperOptions {
  readonly repository: Pick<ImageRepository, 'findOrphans' | 'deleteOrphans'>;
  readonly logger: Logger;
  /** Chunks of a file without a file document are left alone until their newest is this old. */
  readonly graceSeconds: number;
  readonly intervalSeconds: number;
}

/** A file whose chunks a sweep removed, with how many it counted. */
export type RemovedOrphan = Orphan;

export interface RunningSweeper {
  /** Stops the schedule, and a sweep under way after the batch it is removing; resolves once that sweep has ended. */
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

  async function removeBatch(orphans: readonly Orphan[]): Promise<void> {
    const counted = orphans.reduce((sum, orphan) => sum + orphan.chunks, 0);
    const deleted = await repository.deleteOrphans(orphans.map((orphan) => orphan.fileId));
    for (const { fileId, chunks } of orphans) {
      logger.info({ fileId, chunks }, 'removed the chunks of an upload that never finished');
    }
    // Fewer is another instance's sweep getting there first; more is an upload that was still writing.
    if (deleted > counted) {
      logger.warn(
        { counted, deleted, graceSeconds },
        'removed chunks written after the sweep took their files for orphans: an upload went longer than ORPHAN_GRACE between two chunks',
      );
    }
  }

  async function removeOrphans(): Promise<RemovedOrphan[]> {
    const olderThan = new Date(Date.now() - graceSeconds * 1000);
    const orphans = await repository.findOrphans(olderThan);
    const removed: RemovedOrphan[] = [];
    for (let start = 0; start < orphans.length && !stopped; start += IDS_PER_BATCH) {
      const batch = orphans.slice(start, start + IDS_PER_BATCH);
      await removeBatch(batch);
      removed.push(...batch);
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
