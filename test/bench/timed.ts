import type { BenchContext } from './context';
import { waitUntilIdle } from './idle';
import type { Measurement } from './measure';
import type { ServerProcess } from './processes';

/** One request or upload the harness timed itself, one at a time. */
export interface Timed {
  readonly seconds: number;
  readonly peakMemoryBytes: number;
}

/** Times one run against a server that, like the database, has stopped using the CPU; with its peak memory during the run. */
export async function timeOne(context: BenchContext, server: ServerProcess, run: () => Promise<unknown>): Promise<Timed> {
  await waitUntilIdle([server.pid, ...context.database.pids], `${server.name} and the database`);
  await server.resetPeakMemory();
  const started = performance.now();
  await run();
  return { seconds: (performance.now() - started) / 1000, peakMemoryBytes: await server.peakMemoryBytes() };
}

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;
}

export interface TimedRow {
  readonly scenario: string;
  readonly server: string;
  /** The bytes each run moved: MB/s is their sum over the runs' time. */
  readonly bytes: number;
  readonly runs: readonly Timed[];
  /** What the runs were, for the raw output. */
  readonly what: string;
}

/**
 * A row like wrk's, from runs the harness timed itself: one client, one run at a time. With
 * fewer than 100 runs, p99 is the slowest.
 */
export function timedMeasurement({ scenario, server, bytes, runs, what }: TimedRow): Measurement {
  const seconds = runs.reduce((total, run) => total + run.seconds, 0);
  const latencies = runs.map((run) => run.seconds * 1000).sort((a, b) => a - b);
  const [p50, p75, p90, p99] = [0.5, 0.75, 0.9, 0.99].map((share) => percentile(latencies, share)) as [number, number, number, number];
  return {
    scenario,
    server,
    requestsPerSecond: runs.length / seconds,
    megabytesPerSecond: (runs.length * bytes) / seconds / 1e6,
    p50Ms: p50,
    p99Ms: p99,
    errors: 0,
    peakMemoryBytes: Math.max(...runs.map((run) => run.peakMemoryBytes)),
    seconds,
    wrk: {
      requests: runs.length,
      requestsPerSecond: runs.length / seconds,
      transferBytesPerSecond: 0,
      latencyMs: { p50, p75, p90, p99 },
      non2xxOr3xx: 0,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      output: `timed by the harness, not wrk: ${runs.length} ${what} one after another, ${latencies.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    },
  };
}
