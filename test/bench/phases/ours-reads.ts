import { etagOf, fetchExpecting, uploadToOurs } from '../client';
import { getLoad, ourServer, REVALIDATED_INDEX, type BenchContext } from '../context';
import { measure, type Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import { getScenario, OURS, OURS_NO_CACHE, REVALIDATION_SCENARIO } from '../scenarios';

export interface OurReads {
  readonly measurements: Measurement[];
  /** Ids of the read images, in the order of context.images. */
  readonly ids: readonly string[];
}

function idAt(ids: readonly string[], index: number): string {
  const id = ids[index];
  if (id === undefined) throw new Error(`no id for image ${index}`);
  return id;
}

/** GET of each image; the first fetch checks the bytes and, with the cache on, warms it. */
export async function measureGets(context: BenchContext, server: ServerProcess, paths: readonly string[]): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const [index, image] of context.images.entries()) {
    const path = paths[index] ?? '';
    await fetchExpecting(`${server.url}${path}`, image.bytes);
    measurements.push(await measure(context, server, getLoad(context, getScenario(image), path)));
  }
  return measurements;
}

/** Seeds the read images through our upload route, then measures hot GETs and 304s with the cache on. */
export function measureOursHot(context: BenchContext): Promise<OurReads> {
  return withServer(ourServer(context, OURS), async (server) => {
    const ids = await uploadToOurs(server.url, context.images.map((image) => image.bytes));
    const measurements = await measureGets(context, server, ids.map((id) => `/image/${id}`));
    const revalidatedPath = `/image/${idAt(ids, REVALIDATED_INDEX)}`;
    const etag = await etagOf(`${server.url}${revalidatedPath}`);
    const headers = [`If-None-Match: ${etag}`];
    measurements.push(await measure(context, server, getLoad(context, REVALIDATION_SCENARIO, revalidatedPath, headers)));
    return { measurements, ids };
  });
}

/** The same images with the cache off: every GET reads the record and the bytes from the database. */
export function measureOursCold(context: BenchContext, ids: readonly string[]): Promise<Measurement[]> {
  return withServer(ourServer(context, OURS_NO_CACHE, { CACHE_MAX_BYTES: '0' }), (server) =>
    measureGets(context, server, ids.map((id) => `/image/${id}`)),
  );
}
