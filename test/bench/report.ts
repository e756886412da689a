import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import {
  comparisonsFor,
  evaluate,
  evaluateScale,
  findRow,
  scaleComparisons,
  type ComparisonResult,
  type ScaleResult,
} from './comparisons';
import type { BenchImage } from './images';
import type { Measurement } from './measure';
import { renderTable, renderTargets } from './render';
import { scenarioOrder, SERVER_ORDER } from './scenarios';
import { GIB, isFullRun, SCALE_FEW_IMAGES, WARMUP_SECONDS, type Settings } from './settings';

const RESULTS_DIR = path.join(__dirname, 'results');

export interface RunFacts {
  readonly startedAt: Date;
  readonly settings: Settings;
  readonly database: string;
  readonly images: readonly BenchImage[];
}

export interface Report {
  readonly rows: readonly Measurement[];
  readonly comparisons: readonly ComparisonResult[];
  readonly scale: readonly ScaleResult[];
  readonly markdown: string;
}

function ordered(measurements: readonly Measurement[], facts: RunFacts): Measurement[] {
  const scenarios = scenarioOrder(facts.images, facts.settings.scaleImages);
  const rank = (row: Measurement) => scenarios.indexOf(row.scenario) * SERVER_ORDER.length + SERVER_ORDER.indexOf(row.server);
  return [...measurements].sort((a, b) => rank(a) - rank(b));
}

/** The scale rows' image counts are in their names; their bytes only here. */
function describeScale({ phases, scaleImages, scaleBytes }: Settings): string[] {
  if (!phases.includes('scale')) return [];
  const many = scaleImages.toLocaleString('en-US');
  const bytes = `${(scaleBytes / GIB).toFixed(2)} GiB`;
  return [`Scale: ${SCALE_FEW_IMAGES} images of 100 KiB stored, then ${many} holding ${bytes} or more in all; the listing with -c1.`];
}

/** The scenarios BENCH_SCENARIOS chose, if it did. */
function describeScenarios({ scenarios }: Settings): string {
  return scenarios.length === 0 ? '' : `; scenarios named by ${scenarios.map((part) => `"${part}"`).join(', ')}`;
}

function describeRun(facts: RunFacts, seconds: number): string {
  const sizes = facts.images.map((image) => `${image.label} = ${image.bytes.length} B`).join(', ');
  return [
    `Run ${facts.startedAt.toISOString()}, ${seconds.toFixed(0)} s in all; node ${process.version}, ${cpus().length} cores; ${facts.database}; phases: ${facts.settings.phases.join(', ')}${describeScenarios(facts.settings)}.`,
    `wrk -t1 --latency: reads -c64 for ${facts.settings.seconds} s after a ${WARMUP_SECONDS} s warm-up; uploads -c16 for ${facts.settings.uploadSeconds} s. Images: ${sizes}.`,
    'MB/s (10^6 B): responses for reads; for uploads, the bytes the server read (`rchar` in `/proc/<pid>/io`). Peak memory: VmHWM during the measured run.',
    'Errors: non-2xx-or-3xx answers, socket errors and timeouts as wrk counted them. A target also needs 0 errors.',
    ...describeScale(facts.settings),
  ].join('\n\n');
}

export function buildReport(measurements: readonly Measurement[], facts: RunFacts): Report {
  const rows = ordered(measurements, facts);
  // A run of some phases only compares what it measured.
  const measured = comparisonsFor(facts.images).filter((comparison) => findRow(rows, comparison.subject) !== undefined);
  const comparisons = measured.map((comparison) => evaluate(rows, comparison));
  const scale = scaleComparisons(facts.settings.scaleImages)
    .filter((comparison) => findRow(rows, comparison.many) !== undefined)
    .map((comparison) => evaluateScale(rows, comparison));
  const seconds = (Date.now() - facts.startedAt.getTime()) / 1000;
  const markdown = [
    '# Benchmark results',
    '',
    describeRun(facts, seconds),
    '',
    renderTable(rows, comparisons, scale),
    '',
    'Targets:',
    '',
    renderTargets(comparisons, scale),
    '',
  ].join('\n');
  return { rows, comparisons, scale, markdown };
}

export async function writeReport(report: Report, facts: RunFacts): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = {
    startedAt: facts.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: facts.settings,
    environment: { node: process.version, cores: cpus().length, database: facts.database },
    images: facts.images.map((image) => ({ label: image.label, bytes: image.bytes.length })),
    measurements: report.rows,
    comparisons: report.comparisons,
    scale: report.scale,
  };
  // A run of some phases leaves the published results of the last full run alone.
  const name = isFullRun(facts.settings) ? 'latest' : 'phases';
  await writeFile(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, `${name}.md`), report.markdown);
}
