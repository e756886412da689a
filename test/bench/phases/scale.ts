import { uploadManyToOurs } from '../client';
import { getLoad, ourServer, type BenchContext } from '../context';
import { makePngOfAtMost, makeUploadPng } from '../images';
import { writeDeleteEachOnceScript, writeRandomPathScript } from '../lua';
import { measure, type Load, type Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import { OURS_NO_CACHE, SCALE_DELETE, SCALE_GET, SCALE_LIST, scaleScenario } from '../scenarios';
import {
  GET_CONNECTIONS,
  GET_TIMEOUT_SECONDS,
  GIB,
  KIB,
  SCALE_FEW_IMAGES,
  SCALE_LARGE_IMAGE_BYTES,
  type Settings,
} from '../settings';
import { runWrk } from '../wrk';

const SCALE_BUCKET = 'bench_scale';
const SMALL_IMAGE_BYTES = 100 * KIB;
/** MAX_FILES, and a handful of requests at once: enough to seed quickly without measuring the seeding. */
const FILES_PER_REQUEST = 10;
const CONCURRENT_UPLOADS = 4;
/** The harness holds these few images only, and uploads each many times over. */
const DISTINCT_SMALL = 10;
const DISTINCT_LARGE = 2;
/**
 * Deletes are counted, not timed, so that each can take an image uploaded for it without
 * guessing how many a run gets through: one unmeasured per connection, then five.
 */
const DELETE_WARMUP = GET_CONNECTIONS;
const DELETES_MEASURED = 5 * GET_CONNECTIONS;
/** A delete run ends at its last answer; only an answer lost to a socket error leaves it to end here. */
const DELETE_RUN_MAX_SECONDS = 120;
const LISTING_PATH = '/image?limit=24';
const LISTING_CONNECTIONS = 1;

interface ScaleImages {
  readonly small: readonly Buffer[];
  readonly large: readonly Buffer[];
}

async function makeScaleImages(): Promise<ScaleImages> {
  return {
    small: await Promise.all(Array.from({ length: DISTINCT_SMALL }, () => makePngOfAtMost(SMALL_IMAGE_BYTES))),
    // Exactly 4 MiB, so that settings.ts can tell at start whether the bytes asked for fit.
    large: await Promise.all(Array.from({ length: DISTINCT_LARGE }, () => makeUploadPng(SCALE_LARGE_IMAGE_BYTES))),
  };
}

/** The distinct image for the `index`-th upload: references, not copies, so that memory stays bounded. */
function pick(buffers: readonly Buffer[], index: number): Buffer {
  const buffer = buffers[index % buffers.length];
  if (!buffer) throw new Error('no image to upload');
  return buffer;
}

function upload(server: ServerProcess, files: readonly Buffer[]): Promise<string[]> {
  return uploadManyToOurs(server.url, files, FILES_PER_REQUEST, CONCURRENT_UPLOADS);
}

function uploadSmall(server: ServerProcess, images: ScaleImages, count: number): Promise<string[]> {
  return upload(server, Array.from({ length: count }, (_, index) => pick(images.small, index)));
}

/** Cold GETs of a 100 KiB image picked at random per request. */
async function measureReads(
  context: BenchContext,
  server: ServerProcess,
  smallIds: readonly string[],
  stored: number,
): Promise<Measurement> {
  const script = await writeRandomPathScript(
    context.workspace.file(`scale-${stored}-get.lua`),
    context.workspace.file(`scale-${stored}-get.txt`),
    smallIds.map((id) => `/image/${id}`),
  );
  return measure(context, server, { ...getLoad(context, scaleScenario(SCALE_GET, stored), '/image'), script });
}

/**
 * Nothing caches the listing: each page is a query of the files collection. One client, so
 * that the latency is what a page costs: FerretDB sorts every file document for each page,
 * and 64 clients queueing for pages of seconds each would see none answered within the run.
 */
function measureListing(context: BenchContext, server: ServerProcess, stored: number): Promise<Measurement> {
  const load = getLoad(context, scaleScenario(SCALE_LIST, stored), LISTING_PATH);
  return measure(context, server, { ...load, connections: LISTING_CONNECTIONS });
}

/**
 * DELETEs of 100 KiB images uploaded for them just before, each once: the bucket holds
 * `stored` images again when they are done. A 404 would count as an error.
 */
async function measureDeletes(
  context: BenchContext,
  server: ServerProcess,
  images: ScaleImages,
  stored: number,
): Promise<Measurement> {
  const paths = (await uploadSmall(server, images, DELETE_WARMUP + DELETES_MEASURED)).map((id) => `/image/${id}`);
  const file = (name: string) => context.workspace.file(`scale-${stored}-${name}`);
  const script = (name: string, part: readonly string[]) =>
    writeDeleteEachOnceScript(file(`${name}.lua`), file(`${name}.txt`), part);
  const load: Load = {
    scenario: scaleScenario(SCALE_DELETE, stored),
    path: '/image',
    connections: GET_CONNECTIONS,
    seconds: DELETE_RUN_MAX_SECONDS,
    timeoutSeconds: GET_TIMEOUT_SECONDS,
  };
  // measure()'s timed warm-up would run the measured script, and delete its images first.
  const warmup = await script('delete-warmup', paths.slice(0, DELETE_WARMUP));
  await runWrk({ url: `${server.url}${load.path}`, connections: load.connections, seconds: load.seconds, script: warmup });
  return measure(context, server, { ...load, script: await script('delete', paths.slice(DELETE_WARMUP)) });
}

/** The three loads with `stored` images in the bucket, `smallIds` the 100 KiB ones among them. */
async function measureStored(
  context: BenchContext,
  server: ServerProcess,
  images: ScaleImages,
  smallIds: readonly string[],
  stored: number,
): Promise<Measurement[]> {
  return [
    await measureReads(context, server, smallIds, stored),
    await measureListing(context, server, stored),
    await measureDeletes(context, server, images, stored),
  ];
}

/**
 * The images that take the bucket to `scaleImages`: 100 KiB ones, and just enough 4 MiB ones,
 * spread evenly among them, for `scaleBytes` in all. Resolves to the ids of the 100 KiB ones.
 */
async function grow(server: ServerProcess, images: ScaleImages, settings: Settings): Promise<string[]> {
  const count = settings.scaleImages - SCALE_FEW_IMAGES;
  const small = Math.min(...images.small.map((image) => image.length));
  const extra = SCALE_LARGE_IMAGE_BYTES - small;
  const largeCount = Math.max(0, Math.ceil((settings.scaleBytes - settings.scaleImages * small) / extra));
  // The `index`-th image is large where the share of large ones so far reaches a new whole number.
  const isLarge = (index: number) => Math.floor(((index + 1) * largeCount) / count) > Math.floor((index * largeCount) / count);
  const files = Array.from({ length: count }, (_, index) => pick(isLarge(index) ? images.large : images.small, index));
  const total = settings.scaleImages * small + largeCount * extra;
  console.error(`  uploading ${count} more images, ${largeCount} of them 4 MiB: ${(total / GIB).toFixed(2)} GiB stored in all`);
  const ids = await upload(server, files);
  return ids.filter((_, index) => !isLarge(index));
}

/** Cold GETs, a listing page and DELETEs, with 100 images stored and then with `scaleImages`, in a bucket of their own. */
export async function measureScale(context: BenchContext): Promise<Measurement[]> {
  const images = await makeScaleImages();
  // Each copy of the same bytes must be stored apart, as another image would be.
  const launch = ourServer(context, OURS_NO_CACHE, { CACHE_MAX_BYTES: '0', BUCKET_NAME: SCALE_BUCKET, DEDUP: 'false' });
  try {
    return await withServer(launch, async (server) => {
      const few = await uploadSmall(server, images, SCALE_FEW_IMAGES);
      const atFew = await measureStored(context, server, images, few, SCALE_FEW_IMAGES);
      const many = [...few, ...(await grow(server, images, context.settings))];
      return [...atFew, ...(await measureStored(context, server, images, many, context.settings.scaleImages))];
    });
  } finally {
    await context.database.dropBucket(SCALE_BUCKET);
    await context.database.waitUntilIdle();
  }
}
