import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { createPeriodicSweep, type PeriodicSweep } from './periodic-sweep';
import type { VariantRepository } from '../storage/variant-repository';

export interface VariantSweeperOptions {
  readonly repository: Pick<VariantRepository, 'findLeftovers' | 'removeFiles'>;
  readonly logger: Logger;
  /** Unclaimed files and lone chunks are left alone until this old: their maker may still be at work. */
  readonly graceSeconds: number;
  readonly intervalSeconds: number;
  /** What the grace is measured by. */
  readonly clock: Clock;
}

/** Resolves to the ids of the files removed. */
export type VariantSweeper = PeriodicSweep<string>;

/**
 * Removes the variants of deleted originals (a delete cut short, or an original removed by
 * hand) and what variant makers left when they stopped halfway, in batches as the orphan sweep
 * of originals does, beside it on the same schedule settings.
 */
export function createVariantSweeper(options: VariantSweeperOptions): VariantSweeper {
  const { repository, logger, graceSeconds, intervalSeconds, clock } = options;

  async function removeBatch(fileIds: readonly string[]): Promise<void> {
    await repository.removeFiles(fileIds);
    for (const fileId of fileIds) logger.info({ fileId }, 'removed a variant whose original is gone, or that was never finished');
  }

  const findLeftovers = () => repository.findLeftovers(new Date(clock() - graceSeconds * 1000));
  return createPeriodicSweep({ name: 'variant sweep', logger, intervalSeconds, find: findLeftovers, removeBatch });
}
