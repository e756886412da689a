import { uploadToOurs } from '../client';
import { ourServer, type BenchContext } from '../context';
import { makeUploadPng } from '../images';
import type { Measurement } from '../measure';
import { withServer } from '../processes';
import { OURS_MULTIPART_ONE, OURS_TUS_ONE, RESUMABLE_SCENARIO } from '../scenarios';
import { MIB, UPLOAD_PAYLOAD_BYTES } from '../settings';
import { timedMeasurement, timeOne, type Timed } from '../timed';
import { tusUpload } from '../../helpers/tus';

/** Uploads of each kind, alternating, so that neither gets the quieter half of the run. */
const ROUNDS = 5;
export const RESUMABLE_PATCH_BYTES = 5 * MIB;
const BUCKET = 'bench_resumable';

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
  const row = (server: string, runs: readonly Timed[]) =>
    timedMeasurement({ scenario: RESUMABLE_SCENARIO, server, bytes: png.length, runs, what: 'uploads' });
  const rows = [row(OURS_MULTIPART_ONE, multipart), row(OURS_TUS_ONE, tus)];
  for (const row of rows) console.error(`  ${row.server}: ${row.megabytesPerSecond.toFixed(1)} MB/s, p50 ${(row.p50Ms ?? 0).toFixed(0)} ms`);
  return rows;
}
