import { uploadManyToOurs } from '../client';
import { getLoad, ourServer, type BenchContext } from '../context';
import { makePngOfAtMost } from '../images';
import { writeRandomPathScript } from '../lua';
import { measure, type Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import { OURS_NO_CACHE, SCALE_FEW_IMAGES, SCALE_MANY_IMAGES, scaleScenario } from '../scenarios';
import { KIB } from '../settings';

const SCALE_BUCKET = 'bench_scale';
const SMALL_IMAGE_BYTES = 2 * KIB;
/** MAX_FILES, and a handful of requests at once: enough to seed quickly without measuring the seeding. */
const FILES_PER_REQUEST = 10;
const CONCURRENT_UPLOADS = 4;

async function measureRandomReads(context: BenchContext, server: ServerProcess, ids: readonly string[]): Promise<Measurement> {
  const name = `scale-${ids.length}`;
  const script = await writeRandomPathScript(
    context.workspace.file(`${name}.lua`),
    context.workspace.file(`${name}-paths.txt`),
    ids.map((id) => `/image/${id}`),
  );
  const load = getLoad(context, scaleScenario(ids.length), `/image/${ids[0] ?? ''}`);
  return measure(context, server, { ...load, script });
}

/** Cold GETs of random small images, with 100 and then 10,000 of them stored. */
export async function measureScale(context: BenchContext): Promise<Measurement[]> {
  const distinct = await Promise.all(Array.from({ length: SCALE_FEW_IMAGES }, () => makePngOfAtMost(SMALL_IMAGE_BYTES)));
  const launch = ourServer(context, OURS_NO_CACHE, { CACHE_MAX_BYTES: '0', BUCKET_NAME: SCALE_BUCKET });
  try {
    return await withServer(launch, async (server) => {
      const few = await uploadManyToOurs(server.url, distinct, FILES_PER_REQUEST, CONCURRENT_UPLOADS);
      const fewReads = await measureRandomReads(context, server, few);
      const extra = Array.from(
        { length: SCALE_MANY_IMAGES - SCALE_FEW_IMAGES },
        (_, index) => distinct[index % distinct.length] ?? Buffer.alloc(0),
      );
      console.error(`  uploading ${extra.length} more small images`);
      const many = [...few, ...(await uploadManyToOurs(server.url, extra, FILES_PER_REQUEST, CONCURRENT_UPLOADS))];
      return [fewReads, await measureRandomReads(context, server, many)];
    });
  } finally {
    await context.database.dropBucket(SCALE_BUCKET);
  }
}
