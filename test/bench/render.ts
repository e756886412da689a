import type { ComparisonResult, RowKey, ScaleResult } from './comparisons';
import type { Measurement } from './measure';
import { MIB, SCALE_FEW_IMAGES } from './settings';

const HEADER = ['scenario', 'server', 'req/s', 'MB/s', 'p50', 'p99', 'errors', 'peak memory', 'ratio to limit', 'target'];

function formatRate(value: number): string {
  if (value >= 100) return value.toFixed(0);
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function formatLatency(ms: number | null): string {
  if (ms === null) return 'none done';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`;
}

const formatRatio = (ratio: number | undefined): string => (ratio === undefined ? 'n/a' : ratio.toFixed(2));

const METRIC_UNITS: Readonly<Record<ComparisonResult['metric'], string>> = {
  requestsPerSecond: '',
  megabytesPerSecond: ' (MB/s)',
  p50Ms: ' (p50)',
  peakMemoryBytes: ' (peak memory)',
};

const scaleTimes = (scale: ScaleResult): string => (scale.lowerBounds ? '×≥' : '×');

function ratioCell(row: Measurement, comparison: ComparisonResult | undefined, scale: ScaleResult | undefined): string {
  if (scale) {
    const times = scaleTimes(scale);
    return `p50 ${times}${formatRatio(scale.p50Ratio)}, p99 ${times}${formatRatio(scale.p99Ratio)} of ${SCALE_FEW_IMAGES} stored`;
  }
  if (!comparison) return '';
  const unit = METRIC_UNITS[comparison.metric];
  return `${formatRatio(comparison.ratio)} of ${comparison.limit.server}${unit}`;
}

/** A comparison or a scale result: whatever carries a target and a verdict. */
type Judged = Pick<ComparisonResult, 'target' | 'pass'>;

function targetCell(judged: Judged | undefined): string {
  const target = judged?.target;
  if (!target) return '';
  const verdict = judged.pass === true ? 'PASS' : 'FAIL';
  if ('maxRatio' in target) return `${verdict} (≤ ${target.maxRatio.toFixed(2)})`;
  const memory = target.maxPeakMemoryBytes === undefined ? '' : `, < ${target.maxPeakMemoryBytes / MIB} MiB`;
  return `${verdict} (≥ ${target.minRatio.toFixed(2)}${memory})`;
}

const isRow = (row: Measurement, key: RowKey): boolean => key.server === row.server && key.scenario === row.scenario;

function cells(row: Measurement, comparisons: readonly ComparisonResult[], scale: readonly ScaleResult[]): string[] {
  const comparison = comparisons.find(({ subject }) => isRow(row, subject));
  const scaled = scale.find(({ many }) => isRow(row, many));
  return [
    row.scenario,
    row.server,
    formatRate(row.requestsPerSecond),
    row.megabytesPerSecond.toFixed(1),
    formatLatency(row.p50Ms),
    formatLatency(row.p99Ms),
    String(row.errors),
    `${(row.peakMemoryBytes / MIB).toFixed(1)} MiB`,
    ratioCell(row, comparison, scaled),
    targetCell(scaled ?? comparison),
  ];
}

const line = (values: readonly string[]): string => `| ${values.join(' | ')} |`;

export function renderTable(
  rows: readonly Measurement[],
  comparisons: readonly ComparisonResult[],
  scale: readonly ScaleResult[],
): string {
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((row) => line(cells(row, comparisons, scale)))].join('\n');
}

export function renderTargets(comparisons: readonly ComparisonResult[], scale: readonly ScaleResult[]): string {
  const verdict = (judged: Judged): string => targetCell(judged).slice(0, 4);
  return [
    ...comparisons
      .filter((comparison) => comparison.target)
      .map((comparison) => `- ${verdict(comparison)} ${comparison.target?.name ?? ''}: ${formatRatio(comparison.ratio)}`),
    ...scale.map(
      (result) => `- ${verdict(result)} ${result.target.name}: p50 ${scaleTimes(result)}${formatRatio(result.p50Ratio)}`,
    ),
  ].join('\n');
}
