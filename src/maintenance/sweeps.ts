import type { Config } from '../config';
import type { ImageRepository } from '../images/image-repository';
import { createOrphanSweeper } from '../images/orphan-sweeper';
import type { Logger } from '../logger';
import type { VariantRepository } from '../variants/variant-repository';
import { createVariantSweeper } from '../variants/variant-sweeper';
import type { RunningSweeper } from './periodic-sweep';

export interface SweptRepositories {
  readonly repository: ImageRepository;
  readonly variantRepository: VariantRepository;
}

/** The sweeps one process of an instance runs: what uploads and variant makers left behind. */
export function startSweeps(
  { repository, variantRepository }: SweptRepositories,
  config: Pick<Config, 'orphanGraceSeconds' | 'orphanSweepIntervalSeconds'>,
  logger: Logger,
): RunningSweeper {
  const schedule = { logger, graceSeconds: config.orphanGraceSeconds, intervalSeconds: config.orphanSweepIntervalSeconds };
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
