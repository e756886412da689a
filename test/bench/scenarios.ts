/** The names rows are reported and compared under. */
import type { BenchImage } from './images';

export const OURS = 'ours';
export const OURS_NO_CACHE = 'ours, no cache';

export const getScenario = (image: BenchImage): string => `GET ${image.label}`;
export const REVALIDATION_SCENARIO = '304 revalidation';
export const UPLOAD_SCENARIO = 'upload 50 MiB';

export const SCALE_FEW_IMAGES = 100;
export const SCALE_MANY_IMAGES = 10_000;
export const scaleScenario = (stored: number): string => `GET 2 KiB of ${stored.toLocaleString('en-US')}`;
export const SCALE_FEW = scaleScenario(SCALE_FEW_IMAGES);
export const SCALE_MANY = scaleScenario(SCALE_MANY_IMAGES);

/** Rows print in this order: scenarios first, then servers, each limit just above what it bounds. */
export function scenarioOrder(images: readonly BenchImage[]): string[] {
  return [...images.map(getScenario), REVALIDATION_SCENARIO, UPLOAD_SCENARIO, SCALE_FEW, SCALE_MANY];
}

export const SERVER_ORDER: readonly string[] = [
  'memory-limit',
  'pipe-upload-limit',
  OURS,
  'tutorial-peer',
  'gridfs-limit',
  OURS_NO_CACHE,
];
