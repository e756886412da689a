/** The names rows are reported and compared under. */
import type { BenchImage } from './images';
import { SCALE_FEW_IMAGES, type Phase } from './settings';

export const OURS = 'ours';
export const OURS_NO_CACHE = 'ours, no cache';

export const getScenario = (image: BenchImage): string => `GET ${image.label}`;
export const REVALIDATION_SCENARIO = '304 revalidation';
export const UPLOAD_SCENARIO = 'upload 50 MiB';
export const RESUMABLE_SCENARIO = 'upload 50 MiB, one client';
export const OURS_MULTIPART_ONE = 'ours, multipart';
export const OURS_TUS_ONE = 'ours, tus 5 MiB PATCHes';
export const PIPE_UPLOAD_LIMIT = 'pipe-upload-limit';

export const SHARP_LIMIT = 'sharp-limit';
export const FIRST_WEBP_SCENARIO = 'first GET, 1024w WebP of 12 MP JPEG';
export const FIRST_AVIF_SCENARIO = 'first GET, 1024w AVIF of 12 MP JPEG';
export const STORED_VARIANT_SCENARIO = 'GET stored 1024w WebP variant';
export const OURS_STORED_VARIANT = 'ours, the variant';
export const OURS_SAME_SIZE_ORIGINAL = 'ours, original of its bytes';
/** First requests with TRANSFORM_CACHE_BYTES=0: each reads its original from the database, as the first variant of a new image does. */
export const OURS_ORIGINAL_READ = 'ours, original read each time';
/** First requests with the defaults, after one variant of the same original: sharp gets it from memory, as sharp-limit does. */
export const OURS_ORIGINAL_KEPT = 'ours, original kept';
/** Transformations at once in the memory scenario: the default TRANSFORM_CONCURRENCY on this machine's 2 cores, set explicitly. */
export const TRANSFORMATIONS_AT_ONCE = 2;
export const AT_ONCE_SCENARIO = `${TRANSFORMATIONS_AT_ONCE} × 50 MP JPEG → 1024w WebP at once`;

/** What the scale phase measures on `ours, no cache`, with few and then with many images stored. */
export const SCALE_GET = 'GET 100 KiB';
export const SCALE_DELETE = 'DELETE 100 KiB';
export const SCALE_LIST = 'GET /image?limit=24';
export const SCALE_LOADS = [SCALE_GET, SCALE_DELETE, SCALE_LIST] as const;
export type ScaleLoad = (typeof SCALE_LOADS)[number];
export const scaleScenario = (load: ScaleLoad, stored: number): string => `${load}, ${stored.toLocaleString('en-US')} stored`;

/** The scenarios each phase measures, so that a phase with none of BENCH_SCENARIOS is skipped. */
export function phaseScenarios(images: readonly BenchImage[], scaleImages: number): Readonly<Record<Phase, readonly string[]>> {
  return {
    reads: [...images.map(getScenario), REVALIDATION_SCENARIO],
    uploads: [UPLOAD_SCENARIO],
    resumable: [RESUMABLE_SCENARIO],
    scale: SCALE_LOADS.flatMap((load) => [scaleScenario(load, SCALE_FEW_IMAGES), scaleScenario(load, scaleImages)]),
    variants: [FIRST_WEBP_SCENARIO, FIRST_AVIF_SCENARIO, STORED_VARIANT_SCENARIO, AT_ONCE_SCENARIO],
  };
}

/** Rows print in this order: scenarios first, then servers, each limit just above what it bounds. */
export function scenarioOrder(images: readonly BenchImage[], scaleImages: number): string[] {
  return [
    ...images.map(getScenario),
    REVALIDATION_SCENARIO,
    UPLOAD_SCENARIO,
    RESUMABLE_SCENARIO,
    ...SCALE_LOADS.flatMap((load) => [scaleScenario(load, SCALE_FEW_IMAGES), scaleScenario(load, scaleImages)]),
    FIRST_WEBP_SCENARIO,
    FIRST_AVIF_SCENARIO,
    STORED_VARIANT_SCENARIO,
    AT_ONCE_SCENARIO,
  ];
}

export const SERVER_ORDER: readonly string[] = [
  'memory-limit',
  PIPE_UPLOAD_LIMIT,
  SHARP_LIMIT,
  OURS_SAME_SIZE_ORIGINAL,
  OURS,
  OURS_ORIGINAL_READ,
  OURS_ORIGINAL_KEPT,
  OURS_STORED_VARIANT,
  OURS_MULTIPART_ONE,
  OURS_TUS_ONE,
  'tutorial-peer',
  'gridfs-limit',
  OURS_NO_CACHE,
];
