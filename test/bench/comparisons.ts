import type { BenchImage } from './images';
import type { Measurement } from './measure';
import {
  AT_ONCE_SCENARIO,
  FIRST_AVIF_SCENARIO,
  FIRST_WEBP_SCENARIO,
  getScenario,
  OURS,
  OURS_ORIGINAL_KEPT,
  OURS_ORIGINAL_READ,
  OURS_MULTIPART_ONE,
  OURS_NO_CACHE,
  OURS_SAME_SIZE_ORIGINAL,
  OURS_STORED_VARIANT,
  OURS_TUS_ONE,
  PIPE_UPLOAD_LIMIT,
  RESUMABLE_SCENARIO,
  REVALIDATION_SCENARIO,
  SCALE_DELETE,
  SCALE_GET,
  SCALE_LIST,
  SCALE_LOADS,
  scaleScenario,
  type ScaleLoad,
  SHARP_LIMIT,
  STORED_VARIANT_SCENARIO,
  UPLOAD_SCENARIO,
} from './scenarios';
import { MIB, SCALE_FEW_IMAGES } from './settings';

export interface RowKey {
  readonly server: string;
  readonly scenario: string;
}

/** The ratio bound: at least `minRatio` where more is better (rates), at most `maxRatio` where less is (latency). */
export type Target =
  | { readonly name: string; readonly minRatio: number; readonly maxPeakMemoryBytes?: number }
  | { readonly name: string; readonly maxRatio: number };

/**
 * What a comparison divides: reads compare requests served, uploads the bytes taken in, first
 * requests of a variant their median latency, transformations at once their peak memory.
 */
export type Metric = 'requestsPerSecond' | 'megabytesPerSecond' | 'p50Ms' | 'peakMemoryBytes';

/** A row measured against the row that is its limit. */
export interface Comparison {
  readonly subject: RowKey;
  readonly limit: RowKey;
  readonly metric: Metric;
  readonly target?: Target;
}

export interface ComparisonResult extends Comparison {
  /** Undefined when either row is missing or the limit served nothing. */
  readonly ratio: number | undefined;
  /** Only for comparisons with a target: a target also needs the subject to have no errors. */
  readonly pass?: boolean;
}

function withTarget(comparison: Comparison, target: Target | undefined): Comparison {
  return target ? { ...comparison, target } : comparison;
}

function getComparisons(image: BenchImage): Comparison[] {
  const scenario = getScenario(image);
  const memoryLimit = { server: 'memory-limit', scenario };
  return [
    withTarget(
      { subject: { server: OURS, scenario }, limit: memoryLimit, metric: 'requestsPerSecond' },
      image.label === '100 KiB' ? { name: 'hot GET 100 KiB', minRatio: 0.7 } : undefined,
    ),
    { subject: { server: 'tutorial-peer', scenario }, limit: memoryLimit, metric: 'requestsPerSecond' },
    withTarget(
      {
        subject: { server: OURS_NO_CACHE, scenario },
        limit: { server: 'gridfs-limit', scenario },
        metric: 'requestsPerSecond',
      },
      image.label === '1 MiB' ? { name: 'cold GET 1 MiB', minRatio: 0.9 } : undefined,
    ),
  ];
}

export function comparisonsFor(images: readonly BenchImage[]): Comparison[] {
  return [
    ...images.flatMap(getComparisons),
    {
      subject: { server: OURS, scenario: REVALIDATION_SCENARIO },
      limit: { server: 'memory-limit', scenario: REVALIDATION_SCENARIO },
      metric: 'requestsPerSecond',
      target: { name: '304 revalidation', minRatio: 0.7 },
    },
    {
      subject: { server: OURS, scenario: UPLOAD_SCENARIO },
      limit: { server: 'pipe-upload-limit', scenario: UPLOAD_SCENARIO },
      metric: 'megabytesPerSecond',
      target: { name: 'upload throughput and memory', minRatio: 0.9, maxPeakMemoryBytes: 200 * MIB },
    },
    {
      subject: { server: OURS_MULTIPART_ONE, scenario: RESUMABLE_SCENARIO },
      limit: { server: PIPE_UPLOAD_LIMIT, scenario: RESUMABLE_SCENARIO },
      metric: 'megabytesPerSecond',
      target: { name: "one client's upload", minRatio: 0.9 },
    },
    {
      subject: { server: OURS_TUS_ONE, scenario: RESUMABLE_SCENARIO },
      limit: { server: OURS_MULTIPART_ONE, scenario: RESUMABLE_SCENARIO },
      metric: 'megabytesPerSecond',
      target: { name: 'resumable upload throughput', minRatio: 0.8 },
    },
    ...variantComparisons(),
  ];
}

function variantComparisons(): Comparison[] {
  const againstSharp = (scenario: string, server = OURS): Pick<Comparison, 'subject' | 'limit'> => ({
    subject: { server, scenario },
    limit: { server: SHARP_LIMIT, scenario },
  });
  return [
    {
      ...againstSharp(FIRST_WEBP_SCENARIO, OURS_ORIGINAL_READ),
      metric: 'p50Ms',
      target: { name: 'first request, WebP', maxRatio: 1.15 },
    },
    { ...againstSharp(FIRST_WEBP_SCENARIO, OURS_ORIGINAL_KEPT), metric: 'p50Ms' },
    {
      ...againstSharp(FIRST_AVIF_SCENARIO, OURS_ORIGINAL_READ),
      metric: 'p50Ms',
      target: { name: 'first request, AVIF', maxRatio: 1.15 },
    },
    { ...againstSharp(FIRST_AVIF_SCENARIO, OURS_ORIGINAL_KEPT), metric: 'p50Ms' },
    {
      subject: { server: OURS_STORED_VARIANT, scenario: STORED_VARIANT_SCENARIO },
      limit: { server: OURS_SAME_SIZE_ORIGINAL, scenario: STORED_VARIANT_SCENARIO },
      metric: 'requestsPerSecond',
      target: { name: 'stored variant reads', minRatio: 0.95 },
    },
    { ...againstSharp(AT_ONCE_SCENARIO), metric: 'peakMemoryBytes' },
  ];
}

export function findRow(measurements: readonly Measurement[], key: RowKey): Measurement | undefined {
  return measurements.find((row) => row.server === key.server && row.scenario === key.scenario);
}

function meetsTarget(subject: Measurement | undefined, ratio: number | undefined, target: Target): boolean {
  if (!subject || ratio === undefined || subject.errors > 0) return false;
  if ('maxRatio' in target) return ratio <= target.maxRatio;
  const withinMemory = target.maxPeakMemoryBytes === undefined || subject.peakMemoryBytes < target.maxPeakMemoryBytes;
  return ratio >= target.minRatio && withinMemory;
}

export function evaluate(measurements: readonly Measurement[], comparison: Comparison): ComparisonResult {
  const subject = findRow(measurements, comparison.subject);
  const limit = findRow(measurements, comparison.limit);
  const { metric } = comparison;
  const [subjectValue, limitValue] = [subject?.[metric] ?? null, limit?.[metric] ?? null];
  const ratio = subjectValue !== null && limitValue !== null && limitValue > 0 ? subjectValue / limitValue : undefined;
  if (!comparison.target) return { ...comparison, ratio };
  return { ...comparison, ratio, pass: meetsTarget(subject, ratio, comparison.target) };
}

/** The same load with many images stored measured against it with few: how it grows with the bucket. */
export interface ScaleComparison {
  readonly few: RowKey;
  readonly many: RowKey;
  /** On the ratio of p50 latencies. */
  readonly target: { readonly name: string; readonly maxRatio: number };
}

export interface ScaleResult extends ScaleComparison {
  readonly p50Ratio: number | undefined;
  readonly p99Ratio: number | undefined;
  /**
   * No request completed with many images stored: every one took longer than the run, so
   * the ratios take the run's length as the latency and are lower bounds.
   */
  readonly lowerBounds: boolean;
  /** Within the target, and neither row has errors: a 404 from a DELETE would be a fast answer to nothing. */
  readonly pass: boolean;
}

/** A read or a delete should cost the same whatever else is stored; a page of the listing, at most twice. */
const SCALE_TARGETS: Readonly<Record<ScaleLoad, { readonly what: string; readonly maxRatio: number }>> = {
  [SCALE_GET]: { what: 'cold GET 100 KiB', maxRatio: 1.2 },
  [SCALE_DELETE]: { what: 'DELETE 100 KiB', maxRatio: 1.2 },
  [SCALE_LIST]: { what: 'listing page of 24', maxRatio: 2 },
};

export function scaleComparisons(scaleImages: number): ScaleComparison[] {
  return SCALE_LOADS.map((load) => ({
    few: { server: OURS_NO_CACHE, scenario: scaleScenario(load, SCALE_FEW_IMAGES) },
    many: { server: OURS_NO_CACHE, scenario: scaleScenario(load, scaleImages) },
    target: {
      name: `${SCALE_TARGETS[load].what}, ${scaleImages.toLocaleString('en-US')} stored`,
      maxRatio: SCALE_TARGETS[load].maxRatio,
    },
  }));
}

/** How much slower a load gets with many images stored instead of 100. */
export function evaluateScale(measurements: readonly Measurement[], comparison: ScaleComparison): ScaleResult {
  const few = findRow(measurements, comparison.few);
  const many = findRow(measurements, comparison.many);
  const lowerBounds = many !== undefined && many.wrk.requests === 0;
  const ratio = (pick: (row: Measurement) => number | null): number | undefined => {
    const before = few ? pick(few) : null;
    const after = many ? (pick(many) ?? many.seconds * 1000) : null;
    return before !== null && after !== null && before > 0 ? after / before : undefined;
  };
  const p50Ratio = ratio((row) => row.p50Ms);
  const clean = few?.errors === 0 && many?.errors === 0;
  const pass = clean && !lowerBounds && p50Ratio !== undefined && p50Ratio <= comparison.target.maxRatio;
  return { ...comparison, p50Ratio, p99Ratio: ratio((row) => row.p99Ms), lowerBounds, pass };
}
