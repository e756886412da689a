import { uploadToOurs } from '../client';
import { ourServer, type BenchContext } from '../context';
import { waitUntilIdle } from '../idle';
import { makeUploadPng } from '../images';
import type { Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import { OURS_MULTIPART_ONE, OURS_TUS_ONE, RESUMABLE_SCENARIO } from '../scenarios';
import { MIB, UPLOAD_PAYLOAD_BYTES } from '../settings';
import { tusUpload } from '../../helpers/tus';

/** Uploads of each kind, alternating, so that neither gets the quieter half of the run. */
const ROUNDS = 5;
export const RESUMABLE_PATCH_BYTES = 5 * MIB;
const BUCKET = 'bench_resumable';

interface Timed {
  readonly seconds: number;
  readonly peakMemoryBytes: number;
}

async function timeOne(context: BenchContext, server: ServerProcess, upload: () => Promise<unknown>): Promise<Timed> {
  await waitUntilIdle([server.pid, ...context.database.pids], `${server.name} and the database`);
  await server.resetPeakMemory();
  const started = performance.now();
  await upload();
  return { seconds: (performance.now() - started) / 1000, peakMemoryBytes: await server.peakMemoryBytes() };
}

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;
}

/** A row like wrk's, from uploads the harness timed itself: one client, one upload at a time. */
function toMeasurement(server: string, bytes: number, runs: readonly Timed[]): Measurement {
  const seconds = runs.reduce((total, run) => total + run.seconds, 0);
  const latencies = runs.map((run) => run.seconds * 1000).sort((a, b) => a - b);
  const [p50, p75, p90, p99] = [0.5, 0.75, 0.9, 0.99].map((share) => percentile(latencies, share)) as [number, number, number, number];
  return {
    scenario: RESUMABLE_SCENARIO,
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
      output: `timed by the harness, not wrk: ${runs.length} uploads one after another, ${latencies.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    },
  };
}

/**
 * One 50 MiB image sent by one client, as multipart and as tus in 5 MiB PATCHes (tus-js-client),
 * to one server: what resuming costs when nothing goes wrong. Any failed upload fails the run.
 */
export async function measureResumable(context: BenchContext): Promise<Measurement[]> {
  const png = await makeUploadPng(UPLOAD_PAYLOAD_BYTES);
  const multipart: Timed[] = [];
  const tus: Timed[] = [];
  try {
    await withServer(ourServer(context, OURS_MULTIPART_ONE, { BUCKET_NAME: BUCKET }), async (server) => {
      for (let round = 0; round < ROUNDS; round++) {
        multipart.push(await timeOne(context, server, () => uploadToOurs(server.url, [png])));
        tus.push(await timeOne(context, server, () => tusUpload(server.url, png, { chunkSize: RESUMABLE_PATCH_BYTES })));
      }
    });
  } finally {
    await context.database.dropBucket(BUCKET);
    await context.database.waitUntilIdle();
  }
  const rows = [toMeasurement(OURS_MULTIPART_ONE, png.length, multipart), toMeasurement(OURS_TUS_ONE, png.length, tus)];
  for (const row of rows) console.error(`  ${row.server}: ${row.megabytesPerSecond.toFixed(1)} MB/s, p50 ${(row.p50Ms ?? 0).toFixed(0)} ms`);
  return rows;
}
