import { systemClock } from '../core/clock';
import type { ImageRepository } from '../storage/image-repository';
import { createOrphanSweeper } from './orphan-sweeper';
import type { Logger } from '../core/logger';
import type { VariantRepository } from '../storage/variant-repository';
import { createVariantSweeper } from './variant-sweeper';
import type { RunningSweeper } from './periodic-sweep';

export interface SweptRepositories {
  readonly repository: ImageRepository;
  readonly variantRepository: VariantRepository;
}

/** The sweeps one process of an instance runs: what uploads and variant makers left behind. */
export function startSweeps(
  { repository, variantRepository }: SweptRepositories,
  config: { readonly orphanGraceSeconds: number; readonly orphanSweepIntervalSeconds: number },
  logger: Logger,
): RunningSweeper {
  const schedule = {
    logger,
    graceSeconds: config.orphanGraceSeconds,
    intervalSeconds: config.orphanSweepIntervalSeconds,
    clock: systemClock,
  };
  const sweeps = [
    createOrphanSweeper({ repository, ...schedule }).start(),
    createVariantSweeper({ repository: variantRepository, ...schedule }).start(),
  ];
  return {
    stop: async () => {
      await Promise.all(sweeps.map((sweep) => sweep.stop()));
    },
  };
}
