export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

export const GET_CONNECTIONS = 64;
export const UPLOAD_CONNECTIONS = 16;
export const UPLOAD_PAYLOAD_BYTES = 50 * MIB;
export const MAX_FILE_SIZE = 60 * MIB;
/** Every GET scenario runs this long unmeasured first, so that each server is measured with its JIT warm. */
export const WARMUP_SECONDS = 2;
/**
 * wrk counts a slower answer as a timeout and leaves it out of the latencies; cold reads on
 * a slow database can take seconds under 64 connections, and those seconds are the result.
 */
export const GET_TIMEOUT_SECONDS = 30;
export const UPLOAD_TIMEOUT_SECONDS = 120;

/** The scale phase measures with this many images stored first, then with `scaleImages`. */
export const SCALE_FEW_IMAGES = 100;
/** The images that carry most of the scale phase's bytes: far fewer files than 100 KiB ones would take. */
export const SCALE_LARGE_IMAGE_BYTES = 4 * MIB;

/** The groups of scenarios, in the order they run. */
export const PHASES = ['reads', 'uploads', 'resumable', 'scale', 'variants'] as const;
export type Phase = (typeof PHASES)[number];

export interface Settings {
  /** How long each read scenario is measured. */
  readonly seconds: number;
  /** How long each upload scenario is measured. */
  readonly uploadSeconds: number;
  /** The phases to run: all of them unless BENCH_PHASES names some. */
  readonly phases: readonly Phase[];
  /** Parts of the names of the scenarios to run (BENCH_SCENARIOS); none: every scenario of those phases. */
  readonly scenarios: readonly string[];
  /** Images stored in the scale phase's second half. */
  readonly scaleImages: number;
  /** Bytes those images hold at least, in all. */
  readonly scaleBytes: number;
}

function isPhase(name: string): name is Phase {
  return (PHASES as readonly string[]).includes(name);
}

function phases(env: NodeJS.ProcessEnv): Phase[] {
  const names = (env.BENCH_PHASES ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !isPhase(name));
  if (unknown.length > 0) throw new Error(`BENCH_PHASES: ${unknown.join(', ')} unknown; the phases are ${PHASES.join(', ')}`);
  return names.length === 0 ? [...PHASES] : PHASES.filter((phase) => names.includes(phase));
}

/** BENCH_SCENARIOS: parts of scenario names, separated by "|" (names hold commas). */
function scenarios(env: NodeJS.ProcessEnv): string[] {
  return (env.BENCH_SCENARIOS ?? '').split('|').map((part) => part.trim()).filter((part) => part !== '');
}

/** Whether a scenario runs: BENCH_SCENARIOS is unset, or names part of it. */
export function wantsScenario(settings: Settings, scenario: string): boolean {
  return settings.scenarios.length === 0 || settings.scenarios.some((part) => scenario.includes(part));
}

/** Whether every phase and scenario runs: only then are the results the published ones. */
export function isFullRun(settings: Settings): boolean {
  return settings.phases.length === PHASES.length && settings.scenarios.length === 0;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of ${unit}, got ${raw}`);
  return value;
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, KiB: KIB, MiB: MIB, GiB: GIB };

/** A whole number of bytes, or of KiB, MiB or GiB: "200MiB" for a quick run. */
function byteCount(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const [, digits = '', unit = ''] = /^\s*(\d+)\s*(KiB|MiB|GiB)?\s*$/.exec(raw) ?? [];
  const value = Number(digits) * (BYTE_UNITS[unit] ?? 0);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number of bytes, KiB, MiB or GiB, got ${raw}`);
  }
  return value;
}

/** Refuses sizes the scale phase could not store, before any phase runs rather than minutes into the run. */
function scaleSettings(env: NodeJS.ProcessEnv): Pick<Settings, 'scaleImages' | 'scaleBytes'> {
  const scaleImages = positiveInteger(env, 'BENCH_SCALE_IMAGES', 10_000, 'images');
  const scaleBytes = byteCount(env, 'BENCH_SCALE_BYTES', 2 * GIB);
  if (scaleImages <= SCALE_FEW_IMAGES) {
    throw new Error(`BENCH_SCALE_IMAGES must be more than ${SCALE_FEW_IMAGES}, got ${scaleImages}`);
  }
  // The phase adds images of 100 KiB or 4 MiB to the first hundred; counting those hundred as
  // nothing keeps the bound safe whatever the exact size of a 100 KiB PNG.
  const most = (scaleImages - SCALE_FEW_IMAGES) * SCALE_LARGE_IMAGE_BYTES;
  if (scaleBytes > most) {
    throw new Error(`BENCH_SCALE_BYTES must be at most ${most} with ${scaleImages} images, got ${scaleBytes}`);
  }
  return { scaleImages, scaleBytes };
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  return {
    seconds: positiveInteger(env, 'BENCH_SECONDS', 10, 'seconds'),
    uploadSeconds: positiveInteger(env, 'BENCH_UPLOAD_SECONDS', 30, 'seconds'),
    phases: phases(env),
    scenarios: scenarios(env),
    ...scaleSettings(env),
  };
}
