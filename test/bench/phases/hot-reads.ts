import { fastestOfAlternating } from '../alternating';
import { etagOf, fetchExpecting, uploadToOurs } from '../client';
import { getLoad, ourServer, REVALIDATED_INDEX, type BenchContext } from '../context';
import { measure, type Load, type Measurement } from '../measure';
import { withServer, type ServerProcess } from '../processes';
import { getScenario, OURS, REVALIDATION_SCENARIO } from '../scenarios';
import { wantsScenario } from '../settings';
import { MEMORY_LIMIT_ETAG, memoryLimitLaunch } from './baseline-reads';

export interface HotReads {
  readonly measurements: Measurement[];
  /** Ids of the read images on our server, in the order of context.images. */
  readonly ids: readonly string[];
}

/** One scenario as each server is asked it. */
interface LoadPair {
  readonly ours: Load;
  readonly limit: Load;
}

function revalidationPair(context: BenchContext, oursPath: string, oursEtag: string, limitPath: string): LoadPair {
  return {
    ours: getLoad(context, REVALIDATION_SCENARIO, oursPath, [`If-None-Match: ${oursEtag}`]),
    limit: getLoad(context, REVALIDATION_SCENARIO, limitPath, [`If-None-Match: ${MEMORY_LIMIT_ETAG}`]),
  };
}

/**
 * Hot GETs of each image and 304s, on our server with its cache on and on the memory limit,
 * both up at once and loaded in turn: each scenario keeps each server's fastest of three
 * alternating runs. Ours is seeded through its upload route; the first fetch from each
 * server checks the bytes and warms our cache.
 */
export function measureHotReads(context: BenchContext): Promise<HotReads> {
  return withServer(ourServer(context, OURS), async (ours) => {
    const launch = await memoryLimitLaunch(context);
    return withServer(launch, async (limit) => {
      const ids = await uploadToOurs(ours.url, context.images.map((image) => image.bytes));
      const pairs: LoadPair[] = [];
      for (const [index, image] of context.images.entries()) {
        const paths = { ours: `/image/${ids[index] ?? ''}`, limit: `/image/${image.name}` };
        await fetchExpecting(`${ours.url}${paths.ours}`, image.bytes);
        await fetchExpecting(`${limit.url}${paths.limit}`, image.bytes);
        pairs.push({ ours: getLoad(context, getScenario(image), paths.ours), limit: getLoad(context, getScenario(image), paths.limit) });
      }
      const revalidated = context.images[REVALIDATED_INDEX];
      const revalidatedPath = `/image/${ids[REVALIDATED_INDEX] ?? ''}`;
      const etag = await etagOf(`${ours.url}${revalidatedPath}`);
      pairs.push(revalidationPair(context, revalidatedPath, etag, `/image/${revalidated?.name ?? ''}`));
      const measurements: Measurement[] = [];
      for (const pair of pairs.filter(({ ours: load }) => wantsScenario(context.settings, load.scenario))) {
        measurements.push(...(await measurePair(context, { ours, limit }, pair)));
      }
      return { measurements, ids };
    });
  });
}

function measurePair(
  context: BenchContext,
  servers: { ours: ServerProcess; limit: ServerProcess },
  pair: LoadPair,
): Promise<Measurement[]> {
  return fastestOfAlternating(
    () => measure(context, servers.ours, pair.ours),
    () => measure(context, servers.limit, pair.limit),
  );
}
