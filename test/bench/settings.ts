export const KIB = 1024;
export const MIB = 1024 * KIB;

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

/** Whether every phase runs: only then are the results the published ones. */
export function isFullRun(settings: Settings): boolean {
  return settings.phases.length === PHASES.length;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of seconds, got ${raw}`);
  return value;
}

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  return {
    seconds: positiveInteger(env, 'BENCH_SECONDS', 10),
    uploadSeconds: positiveInteger(env, 'BENCH_UPLOAD_SECONDS', 30),
    phases: phases(env),
  };
}
