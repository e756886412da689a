import type { BenchContext } from './context';
import { waitUntilIdle } from './idle';
import type { ServerProcess } from './processes';
import { errorCount, runWrk, type WrkOptions, type WrkResult } from './wrk';

/** One row of the report: one server under one load. */
export interface Measurement {
  readonly scenario: string;
  readonly server: string;
  /** Completed requests per second, as wrk counts them. */
  readonly requestsPerSecond: number;
  /** Reads: response bytes, from wrk. Uploads: body bytes the server took in, from its /proc/<pid>/io. 10^6 bytes. */
  readonly megabytesPerSecond: number;
  /** Null when no request completed within the run. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Non-2xx-or-3xx answers plus socket errors and timeouts, as wrk counted them. */
  readonly errors: number;
  /** VmHWM over the measured run only. */
  readonly peakMemoryBytes: number;
  /** How long the measured run took. */
  readonly seconds: number;
  readonly wrk: WrkResult;
}

export interface Load {
  readonly scenario: string;
  readonly path: string;
  readonly connections: number;
  readonly seconds: number;
  readonly timeoutSeconds: number;
  readonly warmupSeconds?: number;
  readonly headers?: readonly string[];
  readonly script?: string;
  /** Uploads: MB/s then counts the bytes the server took in, which partial uploads cut off at the end count toward. */
  readonly measureIngest?: boolean;
}

interface Run {
  readonly wrk: WrkResult;
  readonly seconds: number;
  readonly bytesRead: number;
}

function toMeasurement(server: ServerProcess, load: Load, run: Run, peakMemoryBytes: number): Measurement {
  const bytesPerSecond = load.measureIngest === true ? run.bytesRead / run.seconds : run.wrk.transferBytesPerSecond;
  const completed = run.wrk.requests > 0;
  return {
    scenario: load.scenario,
    server: server.name,
    requestsPerSecond: run.wrk.requestsPerSecond,
    megabytesPerSecond: bytesPerSecond / 1e6,
    p50Ms: completed ? run.wrk.latencyMs.p50 : null,
    p99Ms: completed ? run.wrk.latencyMs.p99 : null,
    errors: errorCount(run.wrk),
    peakMemoryBytes,
    seconds: run.seconds,
    wrk: run.wrk,
  };
}

async function timedRun(server: ServerProcess, options: WrkOptions): Promise<Run> {
  const readBefore = await server.bytesRead();
  const started = performance.now();
  const wrk = await runWrk(options);
  const seconds = (performance.now() - started) / 1000;
  return { wrk, seconds, bytesRead: (await server.bytesRead()) - readBefore };
}

function describe(measurement: Measurement): string {
  const p99 = measurement.p99Ms === null ? 'none completed' : `p99 ${measurement.p99Ms.toFixed(2)} ms`;
  return (
    `  ${measurement.server} ${measurement.scenario}: ${measurement.requestsPerSecond.toFixed(1)} req/s, ` +
    `${measurement.megabytesPerSecond.toFixed(1)} MB/s, ${p99}, ${measurement.errors} errors`
  );
}

/** Waits out the requests of clients wrk has dropped, so that the next run starts on an idle machine. */
function settle(context: BenchContext, server: ServerProcess): Promise<void> {
  return waitUntilIdle([server.pid, ...context.database.pids], `${server.name} and the database`);
}

/** Runs wrk against `server` (after an unmeasured warm-up, if asked) and reads its peak memory over the run. */
export async function measure(context: BenchContext, server: ServerProcess, load: Load): Promise<Measurement> {
  const options = {
    url: `${server.url}${load.path}`,
    connections: load.connections,
    timeoutSeconds: load.timeoutSeconds,
    ...(load.headers && { headers: load.headers }),
    ...(load.script !== undefined && { script: load.script }),
  };
  if (load.warmupSeconds !== undefined) await runWrk({ ...options, seconds: load.warmupSeconds });
  await settle(context, server);
  await server.resetPeakMemory();
  const run = await timedRun(server, { ...options, seconds: load.seconds });
  const measurement = toMeasurement(server, load, run, await server.peakMemoryBytes());
  await settle(context, server);
  console.error(describe(measurement));
  return measurement;
}
