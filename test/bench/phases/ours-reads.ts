import { fetchExpecting } from '../client';
import { getLoad, ourServer, type BenchContext } from '../context';
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

/** The same images with the cache off: every GET reads the record and the bytes from the database. */
export function measureOursCold(context: BenchContext, ids: readonly string[]): Promise<Measurement[]> {
  return withServer(ourServer(context, OURS_NO_CACHE, { CACHE_MAX_BYTES: '0' }), (server) =>
    measureGets(context, server, ids.map((id) => `/image/${id}`)),
  );
}
