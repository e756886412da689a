/** The names rows are reported and compared under. */
import type { BenchImage } from './images';

export const OURS = 'ours';
export const OURS_NO_CACHE = 'ours, no cache';

export const getScenario = (image: BenchImage): string => `GET ${image.label}`;
export const REVALIDATION_SCENARIO = '304 revalidation';
export const UPLOAD_SCENARIO = 'upload 50 MiB';
export const RESUMABLE_SCENARIO = 'upload 50 MiB, one client';
export const OURS_MULTIPART_ONE = 'ours, multipart';
export const OURS_TUS_ONE = 'ours, tus 5 MiB PATCHes';

export const SCALE_FEW_IMAGES = 100;
export const SCALE_MANY_IMAGES = 10_000;
export const scaleScenario = (stored: number): string => `GET 2 KiB of ${stored.toLocaleString('en-US')}`;
export const SCALE_FEW = scaleScenario(SCALE_FEW_IMAGES);
export const SCALE_MANY = scaleScenario(SCALE_MANY_IMAGES);

/** Rows print in this order: scenarios first, then servers, each limit just above what it bounds. */
export function scenarioOrder(images: readonly BenchImage[]): string[] {
  return [...images.map(getScenario), REVALIDATION_SCENARIO, UPLOAD_SCENARIO, RESUMABLE_SCENARIO, SCALE_FEW, SCALE_MANY];
}

export const SERVER_ORDER: readonly string[] = [
  'memory-limit',
  'pipe-upload-limit',
  OURS,
  OURS_MULTIPART_ONE,
  OURS_TUS_ONE,
  'tutorial-peer',
  'gridfs-limit',
  OURS_NO_CACHE,
];
