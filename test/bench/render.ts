import type { ComparisonResult, ScaleResult } from './comparisons';
import type { Measurement } from './measure';
import { SCALE_MANY } from './scenarios';
import { MIB } from './settings';

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

function ratioCell(row: Measurement, comparison: ComparisonResult | undefined, scale: ScaleResult): string {
  if (row.scenario === SCALE_MANY) {
    const times = scale.lowerBounds ? '×≥' : '×';
    return `p50 ${times}${formatRatio(scale.p50Ratio)}, p99 ${times}${formatRatio(scale.p99Ratio)} of 100 stored`;
  }
  if (!comparison) return '';
  const unit = METRIC_UNITS[comparison.metric];
  return `${formatRatio(comparison.ratio)} of ${comparison.limit.server}${unit}`;
}

function targetCell(comparison: ComparisonResult | undefined): string {
  const target = comparison?.target;
  if (!target) return '';
  const verdict = comparison.pass === true ? 'PASS' : 'FAIL';
  if ('maxRatio' in target) return `${verdict} (≤ ${target.maxRatio.toFixed(2)})`;
  const memory = target.maxPeakMemoryBytes === undefined ? '' : `, < ${target.maxPeakMemoryBytes / MIB} MiB`;
  return `${verdict} (≥ ${target.minRatio.toFixed(2)}${memory})`;
}

function cells(row: Measurement, comparisons: readonly ComparisonResult[], scale: ScaleResult): string[] {
  const comparison = comparisons.find(({ subject }) => subject.server === row.server && subject.scenario === row.scenario);
  return [
    row.scenario,
    row.server,
    formatRate(row.requestsPerSecond),
    row.megabytesPerSecond.toFixed(1),
    formatLatency(row.p50Ms),
    formatLatency(row.p99Ms),
    String(row.errors),
    `${(row.peakMemoryBytes / MIB).toFixed(1)} MiB`,
    ratioCell(row, comparison, scale),
    targetCell(comparison),
  ];
}

const line = (values: readonly string[]): string => `| ${values.join(' | ')} |`;

export function renderTable(rows: readonly Measurement[], comparisons: readonly ComparisonResult[], scale: ScaleResult): string {
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((row) => line(cells(row, comparisons, scale)))].join('\n');
}

export function renderTargets(comparisons: readonly ComparisonResult[]): string {
  return comparisons
    .filter((comparison) => comparison.target)
    .map((comparison) => `- ${targetCell(comparison).slice(0, 4)} ${comparison.target?.name ?? ''}: ${formatRatio(comparison.ratio)}`)
    .join('\n');
}
