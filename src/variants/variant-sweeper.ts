import { isDatabaseUnavailable } from '../database/database-errors';
import type { Logger } from '../logger';
import type { VariantRepository } from './variant-repository';

export interface VariantSweeperOptions {
  readonly repository: Pick<VariantRepository, 'findLeftovers' | 'removeFile'>;
  readonly logger: Logger;
  /** Unclaimed files and lone chunks are left alone until this old: their maker may still be at work. */
  readonly graceSeconds: number;
  readonly intervalSeconds: number;
}

export interface VariantSweeper {
  /** One sweep now; resolves to the ids of the files removed. Never rejects. */
  sweep(): Promise<string[]>;
  /** Sweeps now, then `intervalSeconds` after each sweep ends; `stop` waits for one under way. */
  start(): { stop(): Promise<void> };
}

/**
 * Removes the variants of deleted originals (a delete cut short, or an original removed by
 * hand) and what variant makers left when they stopped halfway. Beside the orphan sweep of
 * originals, on the same schedule settings.
 */
export function createVariantSweeper(options: VariantSweeperOptions): VariantSweeper {
  const { repository, logger, graceSeconds, intervalSeconds } = options;
  let running: Promise<string[]> | undefined;
  let stopped = false;

  async function sweepOnce(): Promise<string[]> {
    try {
      const removed: string[] = [];
      for (const fileId of await repository.findLeftovers(new Date(Date.now() - graceSeconds * 1000))) {
        if (stopped) break;
        await repository.removeFile(fileId);
        logger.info({ fileId }, 'removed a variant whose original is gone, or that was never finished');
        removed.push(fileId);
      }
      return removed;
    } catch (error) {
      logger[isDatabaseUnavailable(error) ? 'warn' : 'error']({ err: error }, `variant sweep failed; the next one runs in ${intervalSeconds} s`);
      return [];
    } finally {
      running = undefined;
    }
  }

  function sweep(): Promise<string[]> {
    running ??= sweepOnce();
    return running;
  }

  function start() {
    stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const loop = () => {
      void sweep().then(() => {
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
