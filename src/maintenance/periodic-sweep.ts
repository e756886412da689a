import { batchesOf } from '../core/batches';
import { isDatabaseUnavailable } from '../database/database-errors';
import { IDS_PER_BATCH } from '../storage/gridfs/orphans';
import type { Logger } from '../core/logger';

export interface RunningSweeper {
  /** Stops the schedule, and a sweep under way at its next check; resolves once that sweep has ended. */
  stop(): Promise<void>;
}

export interface PeriodicSweep<Found> {
  /** One sweep now; while one is under way, that one's result: what it removed. Never rejects. */
  sweep(): Promise<Found[]>;
  /** Sweeps now, then `intervalSeconds` after each sweep ends, so that sweeps never overlap. */
  start(): RunningSweeper;
}

export interface PeriodicSweepOptions<Found> {
  /** Names the sweep in its log lines. */
  readonly name: string;
  readonly logger: Logger;
  readonly intervalSeconds: number;
  /** What one sweep is to remove. */
  readonly find: () => Promise<readonly Found[]>;
  /** Removes one batch of it, at most `IDS_PER_BATCH`: a fixed number of queries, whatever is found. */
  readonly removeBatch: (batch: readonly Found[]) => Promise<void>;
}

/**
 * The schedule and the batches every sweep shares. Failures are logged and the next sweep tries
 * again: a database that is away now is no reason to stop the process.
 */
export function createPeriodicSweep<Found>(options: PeriodicSweepOptions<Found>): PeriodicSweep<Found> {
  const { name, logger, intervalSeconds, find, removeBatch } = options;
  let running: Promise<Found[]> | undefined;
  let stopped = false;

  /** Stops between batches, never within one, so that stopping waits for one removal at most. */
  async function removeFound(): Promise<Found[]> {
    const removed: Found[] = [];
    for (const batch of batchesOf(await find(), IDS_PER_BATCH)) {
      if (stopped) break;
      await removeBatch(batch);
      removed.push(...batch);
    }
    return removed;
  }

  async function sweepOnce(): Promise<Found[]> {
    try {
      return await removeFound();
    } catch (error) {
      const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
      logger[level]({ err: error }, `${name} failed; the next one runs in ${intervalSeconds} s`);
      return [];
    } finally {
      running = undefined;
    }
  }

  function sweep(): Promise<Found[]> {
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
