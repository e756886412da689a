import { fastestOfAlternating } from '../alternating';
import { fetchExpecting } from '../client';
import { benchServer, getLoad, IMAGES_BUCKET, ourServer, type BenchContext } from '../context';
import { measure, type Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import { getScenario, OURS_NO_CACHE } from '../scenarios';
import { wantsScenario } from '../settings';

/** GET of each image; the first fetch checks the bytes and, with the cache on, warms it. */
export async function measureGets(context: BenchContext, server: ServerProcess, paths: readonly string[]): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const [index, image] of context.images.entries()) {
    if (!wantsScenario(context.settings, getScenario(image))) continue;
    const path = paths[index] ?? '';
    await fetchExpecting(`${server.url}${path}`, image.bytes);
    measurements.push(await measure(context, server, getLoad(context, getScenario(image), path)));
  }
  return measurements;
}

/**
 * The same images with the cache off, so that every GET reads the record and the bytes from the
 * database, on ours and on gridfs-limit: both up at once and loaded in turn, as hot reads are,
 * each keeping its fastest of three runs, since the target compares the two.
 */
export function measureColdReads(context: BenchContext, ids: readonly string[]): Promise<Measurement[]> {
  return withServer(ourServer(context, OURS_NO_CACHE, { CACHE_MAX_BYTES: '0' }), (ours) =>
    withServer(benchServer(context, 'gridfs-limit', { BUCKET_NAME: IMAGES_BUCKET }), async (limit) => {
      const measurements: Measurement[] = [];
      for (const [index, image] of context.images.entries()) {
        const scenario = getScenario(image);
        if (!wantsScenario(context.settings, scenario)) continue;
        const path = `/image/${ids[index] ?? ''}`;
        for (const server of [ours, limit]) await fetchExpecting(`${server.url}${path}`, image.bytes);
        const load = getLoad(context, scenario, path);
        measurements.push(...(await fastestOfAlternating(() => measure(context, ours, load), () => measure(context, limit, load))));
      }
      return measurements;
    }),
  );
}
