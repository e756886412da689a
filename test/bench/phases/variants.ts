import { mkdir, writeFile } from 'node:fs/promises';
import { signUrl } from '../../../src/delivery/read-url-signature';
import { fastestOfAlternating } from '../alternating';
import { deleteFromOurs, uploadToOurs } from '../client';
import { benchServer, getLoad, ourServer, type BenchContext } from '../context';
import { makePhotoJpeg } from '../images';
import { measure, type Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import {
  FIRST_AVIF_SCENARIO,
  FIRST_WEBP_SCENARIO,
  OURS,
  OURS_ORIGINAL_KEPT,
  OURS_ORIGINAL_READ,
  OURS_SAME_SIZE_ORIGINAL,
  OURS_STORED_VARIANT,
  SHARP_LIMIT,
  STORED_VARIANT_SCENARIO,
  AT_ONCE_SCENARIO,
  TRANSFORMATIONS_AT_ONCE,
} from '../scenarios';
import { wantsScenario } from '../settings';
import { timedMeasurement, timeOne, type Timed } from '../timed';

const BUCKET = 'bench_variants';
const SIGNING_KEY = 'bench-signing-key-0123456789abcdef0123';
const FIRST_REQUESTS = 10;
const WIDTH = 1024;

interface FirstRequestFormat {
  readonly scenario: string;
  readonly format: 'webp' | 'avif';
  /** The format's default quality: its variant is the one later served stored. */
  readonly quality: number;
}

const FORMATS: readonly FirstRequestFormat[] = [
  { scenario: FIRST_WEBP_SCENARIO, format: 'webp', quality: 80 },
  { scenario: FIRST_AVIF_SCENARIO, format: 'avif', quality: 50 },
];

/** The servers, each able to transform the same originals: ours from GridFS by id, sharp-limit from memory by name. */
interface Transformers {
  /** With the defaults: it keeps an original after transforming it. */
  readonly ours: ServerProcess;
  /** With TRANSFORM_CACHE_BYTES=0, on the same database: it reads the original for every variant. */
  readonly oursReading: ServerProcess;
  readonly limit: ServerProcess;
  /** The path of a variant of `name` on each. */
  readonly paths: (name: string, query: string) => { ours: string; limit: string };
}

async function fetchVariant(server: ServerProcess, path: string, contentType: string): Promise<Buffer> {
  const response = await fetch(`${server.url}${path}`);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || response.headers.get('content-type') !== contentType || body.length === 0) {
    throw new Error(`GET ${server.name} ${path}: ${response.status} ${response.headers.get('content-type') ?? ''}, ${body.length} bytes`);
  }
  return body;
}

/**
 * Every request asks a variant not made yet, of the same original: the same original at a
 * quality not asked before. New originals would do too, but on FerretDB every chunk query
 * scans the whole bucket, so each stored copy would slow the reads of all the others, which
 * MongoDB's index does not. Our two servers share one bucket, so each gets qualities of its
 * own; ours reading the original each time and sharp-limit get the same ones, alternately first.
 */
async function measureFirstRequests(context: BenchContext, servers: Transformers, { scenario, format, quality }: FirstRequestFormat) {
  const reading: Timed[] = [];
  const keeping: Timed[] = [];
  const limit: Timed[] = [];
  const contentType = `image/${format}`;
  const request = (server: ServerProcess, path: string) => timeOne(context, server, () => fetchVariant(server, path, contentType));
  const pathsAt = (q: number) => servers.paths('photo-12mp', `w=${WIDTH}&format=${format}&q=${q}`);
  // Unmeasured: each process's first transformation (and our first variant write) sets things up
  // once; the server that keeps originals keeps this one from here on.
  await fetchVariant(servers.oursReading, pathsAt(quality + 10).ours, contentType);
  await fetchVariant(servers.ours, pathsAt(quality + 11).ours, contentType);
  await fetchVariant(servers.limit, pathsAt(quality + 10).limit, contentType);
  for (let run = 0; run < FIRST_REQUESTS; run++) {
    const paths = pathsAt(quality - run);
    const timeReading = async () => reading.push(await request(servers.oursReading, paths.ours));
    const timeLimit = async () => limit.push(await request(servers.limit, paths.limit));
    if (run % 2 === 0) await timeReading().then(timeLimit);
    else await timeLimit().then(timeReading);
    keeping.push(await request(servers.ours, pathsAt(quality - FIRST_REQUESTS - run).ours));
  }
  const rows = [
    timedMeasurement({ scenario, server: OURS_ORIGINAL_READ, bytes: 0, runs: reading, what: 'first requests' }),
    timedMeasurement({ scenario, server: OURS_ORIGINAL_KEPT, bytes: 0, runs: keeping, what: 'first requests' }),
    timedMeasurement({ scenario, server: SHARP_LIMIT, bytes: 0, runs: limit, what: 'transformations' }),
  ];
  for (const row of rows) console.error(`  ${row.server} ${scenario}: p50 ${(row.p50Ms ?? 0).toFixed(0)} ms, p99 ${(row.p99Ms ?? 0).toFixed(0)} ms`);
  return rows;
}

/**
 * The stored WebP variant against an original of exactly its bytes, uploaded as one: same
 * size, same type, both hot. Each is loaded once unmeasured, since the first run after the
 * transformations above read up to a fifth slower whichever path it was; then each keeps its
 * fastest of three alternating runs. Most of a read's cost is the kernel's socket write of its
 * 200 KB, which moved one path's rate by up to a fifth between runs (CPU profiles of both paths
 * differ by under 0.5 µs of JavaScript a read).
 */
async function measureStoredVariant(context: BenchContext, ours: ServerProcess, originalId: string): Promise<Measurement[]> {
  const variantPath = `/image/${originalId}?w=${WIDTH}&format=webp`;
  const variant = await fetchVariant(ours, variantPath, 'image/webp');
  const [copyId] = await uploadToOurs(ours.url, [variant]);
  const copyPath = `/image/${copyId ?? ''}`;
  const copy = await fetchVariant(ours, copyPath, 'image/webp');
  if (!copy.equals(variant)) throw new Error('the original uploaded from the variant came back different');
  const run = (name: string, path: string) => async () => ({
    ...(await measure(context, ours, getLoad(context, STORED_VARIANT_SCENARIO, path))),
    server: name,
  });
  const readVariant = run(OURS_STORED_VARIANT, variantPath);
  const readOriginal = run(OURS_SAME_SIZE_ORIGINAL, copyPath);
  await readVariant();
  await readOriginal();
  return fastestOfAlternating(readVariant, readOriginal);
}

/** TRANSFORMATIONS_AT_ONCE first requests at once, each for a new variant of a 50 MP JPEG: the server's peak memory. */
async function measureTransformationsAtOnce(context: BenchContext, servers: Transformers): Promise<Measurement[]> {
  const scenario = AT_ONCE_SCENARIO;
  const rows: Measurement[] = [];
  for (const [name, server] of [[OURS, servers.ours], [SHARP_LIMIT, servers.limit]] as const) {
    const timed = await timeOne(context, server, () =>
      Promise.all(
        Array.from({ length: TRANSFORMATIONS_AT_ONCE }, (_, index) => {
          const paths = servers.paths('photo-50mp', `w=${WIDTH}&format=webp&q=${80 - index}`);
          return fetchVariant(server, name === OURS ? paths.ours : paths.limit, 'image/webp');
        }),
      ),
    );
    rows.push(timedMeasurement({ scenario, server: name, bytes: 0, runs: [timed], what: `rounds of ${TRANSFORMATIONS_AT_ONCE} at once` }));
  }
  for (const row of rows) console.error(`  ${row.server} ${scenario}: ${(row.peakMemoryBytes / 2 ** 20).toFixed(0)} MiB peak`);
  return rows;
}

/** Our two servers, on one bucket, and sharp-limit with the originals in `dir`, while `use` runs. */
function withTransformers<T>(
  context: BenchContext,
  dir: string,
  use: (servers: Omit<Transformers, 'paths'>) => Promise<T>,
): Promise<T> {
  const env = { BUCKET_NAME: BUCKET, TRANSFORM_CONCURRENCY: String(TRANSFORMATIONS_AT_ONCE), SIGNING_KEY };
  return withServer(ourServer(context, OURS, env), (ours) =>
    withServer(ourServer(context, OURS_ORIGINAL_READ, { ...env, TRANSFORM_CACHE_BYTES: '0' }), (oursReading) =>
      withServer(benchServer(context, 'sharp-limit', { IMAGE_DIR: dir }), (limit) => use({ ours, oursReading, limit })),
    ),
  );
}

/**
 * Variants against sharp alone: first requests of a 12 MP JPEG's 1024-wide WebP and AVIF,
 * reads of a stored variant against an original of its size, and the peak memory of
 * TRANSFORM_CONCURRENCY transformations of 50 MP at once.
 */
export async function measureVariants(context: BenchContext): Promise<Measurement[]> {
  const dir = context.workspace.file('originals');
  await mkdir(dir, { recursive: true });
  const photos = { 'photo-12mp': await makePhotoJpeg(4000, 3000), 'photo-50mp': await makePhotoJpeg(8000, 6250) };
  for (const [name, bytes] of Object.entries(photos)) await writeFile(`${dir}/${name}.jpg`, bytes);
  console.error(`  originals: 12 MP ${photos['photo-12mp'].length} B, 50 MP ${photos['photo-50mp'].length} B`);
  try {
    return await withTransformers(context, dir, async (processes) => {
      const ids: Record<string, string | undefined> = {};
      const servers: Transformers = {
        ...processes,
        // Signed: the new variant of each request is a quality not asked before, which needs a signature.
        paths: (name, query) => ({ ours: signUrl(SIGNING_KEY, `/image/${ids[name] ?? ''}`, query), limit: `/${name}?${query}` }),
      };
      const { ours } = servers;
      const wants = (scenario: string) => wantsScenario(context.settings, scenario);
      const rows: Measurement[] = [];
      if (wants(AT_ONCE_SCENARIO)) {
        // The 50 MP original is gone before the rest: on FerretDB, every chunk query scans all that the bucket holds.
        [ids['photo-50mp']] = await uploadToOurs(ours.url, [photos['photo-50mp']]);
        rows.push(...(await measureTransformationsAtOnce(context, servers)));
        await deleteFromOurs(ours.url, ids['photo-50mp'] ?? '');
      }
      [ids['photo-12mp']] = await uploadToOurs(ours.url, [photos['photo-12mp']]);
      for (const format of FORMATS.filter(({ scenario }) => wants(scenario))) {
        rows.push(...(await measureFirstRequests(context, servers, format)));
      }
      if (wants(STORED_VARIANT_SCENARIO)) rows.push(...(await measureStoredVariant(context, ours, ids['photo-12mp'] ?? '')));
      return rows;
    });
  } finally {
    await context.database.dropBucket(BUCKET);
    await context.database.dropBucket(`${BUCKET}.variants`);
    await context.database.waitUntilIdle();
  }
}
