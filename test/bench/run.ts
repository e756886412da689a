/** `npm run bench`: every server side by side on one embedded database; see README.md here. */
import { compileServers } from './compile-servers';
import type { BenchContext } from './context';
import { startBenchDatabase, type BenchDatabase } from './database';
import { makeReadImages, type BenchImage } from './images';
import type { Measurement } from './measure';
import { measureTutorialPeer } from './phases/baseline-reads';
import { measureHotReads } from './phases/hot-reads';
import { measureColdReads } from './phases/ours-reads';
import { measureScale } from './phases/scale';
import { measureResumable } from './phases/resumable';
import { measureUploads } from './phases/uploads';
import { measureVariants } from './phases/variants';
import { buildReport, writeReport } from './report';
import { phaseScenarios } from './scenarios';
import { readSettings, wantsScenario, type Phase, type Settings } from './settings';
import { assertWrkInstalled, WrkMissingError } from './wrk';
import { createWorkspace, type Workspace } from './workspace';

async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  console.error(`${title}…`);
  return work();
}

async function measureReads(context: BenchContext): Promise<Measurement[]> {
  const hot = await step('ours and memory-limit, hot reads and 304, in turn', () => measureHotReads(context));
  return [
    ...hot.measurements,
    ...(await step('ours, no cache and gridfs-limit, cold reads, in turn', () => measureColdReads(context, hot.ids))),
    ...(await step('tutorial-peer', () => measureTutorialPeer(context))),
  ];
}

const PHASE_RUNS: Readonly<Record<Phase, (context: BenchContext) => Promise<Measurement[]>>> = {
  reads: measureReads,
  uploads: (context) => step('uploads', () => measureUploads(context)),
  resumable: (context) => step('resumable uploads', () => measureResumable(context)),
  scale: (context) => step('scale check', () => measureScale(context)),
  variants: (context) => step('variants', () => measureVariants(context)),
};

async function measureAll(context: BenchContext): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const phase of context.settings.phases) measurements.push(...(await PHASE_RUNS[phase](context)));
  return measurements;
}

/** The settings with only the phases that measure a scenario BENCH_SCENARIOS asks for. */
function withWantedPhases(settings: Settings, images: readonly BenchImage[]): Settings {
  const scenarios = phaseScenarios(images, settings.scaleImages);
  const phases = settings.phases.filter((phase) => scenarios[phase].some((scenario) => wantsScenario(settings, scenario)));
  return { ...settings, phases };
}

async function benchmark(workspace: Workspace, database: BenchDatabase, startedAt: Date): Promise<void> {
  const images = await makeReadImages();
  const settings = withWantedPhases(readSettings(process.env), images);
  const context: BenchContext = {
    settings,
    database,
    workspace,
    scripts: await compileServers(workspace.file('servers')),
    images,
  };
  const measurements = await measureAll(context);
  const facts = { startedAt, settings, database: database.description, images: context.images };
  const report = buildReport(measurements, facts);
  await writeReport(report, facts);
  console.log(report.markdown);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  await assertWrkInstalled();
  readSettings(process.env);
  const workspace = await createWorkspace();
  try {
    const database = await step('starting the database', () => startBenchDatabase(workspace.file('database')));
    try {
      await benchmark(workspace, database, startedAt);
    } finally {
      await database.stop();
    }
  } finally {
    await workspace.remove();
  }
}

// Exiting runs the exit hooks that kill every child server and remove the workspace.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  if (error instanceof WrkMissingError) console.error(error.message);
  else console.error('The benchmark failed:', error);
  process.exitCode = 1;
});
