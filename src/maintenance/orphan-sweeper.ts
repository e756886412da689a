import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { createPeriodicSweep, type PeriodicSweep } from './periodic-sweep';
import type { ImageRepository, Orphan } from '../storage/image-repository';

export interface OrphanSweeperOptions {
  readonly repository: Pick<ImageRepository, 'findOrphans' | 'deleteOrphans'>;
  readonly logger: Logger;
  /** Chunks of a file without a file document are left alone until their newest is this old. */
  readonly graceSeconds: number;
  readonly intervalSeconds: number;
  /** What the grace, and resumable uploads' expiry, are measured by. */
  readonly clock: Clock;
}

/** A file whose chunks a sweep removed, with how many it counted. */
export type RemovedOrphan = Orphan;

export type OrphanSweeper = PeriodicSweep<RemovedOrphan>;

/** Removes the chunks that uploads cut off by a crash, a kill or a failed cleanup left behind. */
export function createOrphanSweeper(options: OrphanSweeperOptions): OrphanSweeper {
  const { repository, logger, graceSeconds, intervalSeconds, clock } = options;

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

  const findOrphans = () => {
    const now = clock();
    return repository.findOrphans(new Date(now - graceSeconds * 1000), new Date(now));
  };
  return createPeriodicSweep({ name: 'orphan sweep', logger, intervalSeconds, find: findOrphans, removeBatch });
}
