import { expectCreated, uploadToOurs } from '../client';
import { benchServer, ourServer, type BenchContext } from '../context';
import { makeUploadPng } from '../images';
import type { Measurement } from '../measure';
import { withServer } from '../processes';
import { OURS_MULTIPART_ONE, OURS_TUS_ONE, PIPE_UPLOAD_LIMIT, RESUMABLE_SCENARIO } from '../scenarios';
import { MIB, UPLOAD_PAYLOAD_BYTES } from '../settings';
import { timedMeasurement, timeOne, type Timed } from '../timed';
import { tusUpload } from '../../helpers/tus';

/** Uploads of each kind, alternating, so that neither gets the quieter half of the run. */
const ROUNDS = 5;
export const RESUMABLE_PATCH_BYTES = 5 * MIB;
const BUCKET = 'bench_resumable';
const PIPE_BUCKET = 'bench_resumable_pipe';

/**
 * One 50 MiB image sent by one client, as multipart and as tus in 5 MiB PATCHes (tus-js-client),
 * to one server: what resuming costs when nothing goes wrong; and the raw body piped into GridFS
 * by the bare server, the limit of one client's upload into this database. Any failed upload
 * fails the run.
 */
export async function measureResumable(context: BenchContext): Promise<Measurement[]> {
  const png = await makeUploadPng(UPLOAD_PAYLOAD_BYTES);
  const multipart: Timed[] = [];
  const tus: Timed[] = [];
  const pipe: Timed[] = [];
  try {
    await withServer(ourServer(context, OURS_MULTIPART_ONE, { BUCKET_NAME: BUCKET }), (ours) =>
      withServer(benchServer(context, PIPE_UPLOAD_LIMIT, { BUCKET_NAME: PIPE_BUCKET }), async (bare) => {
        for (let round = 0; round < ROUNDS; round++) {
          multipart.push(await timeOne(context, ours, () => uploadToOurs(ours.url, [png])));
          tus.push(await timeOne(context, ours, () => tusUpload(ours.url, png, { chunkSize: RESUMABLE_PATCH_BYTES })));
          pipe.push(await timeOne(context, bare, () => expectCreated(`${bare.url}/upload`, 'image/png', png)));
        }
      }),
    );
  } finally {
    await context.database.dropBucket(BUCKET);
    await context.database.dropBucket(PIPE_BUCKET);
    await context.database.waitUntilIdle();
  }
  const row = (server: string, runs: readonly Timed[]) =>
    timedMeasurement({ scenario: RESUMABLE_SCENARIO, server, bytes: png.length, runs, what: 'uploads' });
  const rows = [row(PIPE_UPLOAD_LIMIT, pipe), row(OURS_MULTIPART_ONE, multipart), row(OURS_TUS_ONE, tus)];
  for (const row of rows) console.error(`  ${row.server}: ${row.megabytesPerSecond.toFixed(1)} MB/s, p50 ${(row.p50Ms ?? 0).toFixed(0)} ms`);
  return rows;
}
