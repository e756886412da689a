import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { uploadToPeer } from '../client';
import { benchServer, getLoad, imageAt, IMAGES_BUCKET, REVALIDATED_INDEX, type BenchContext } from '../context';
import { measure, type Measurement } from '../measure';
import { withServer } from '../processes';
import { REVALIDATION_SCENARIO } from '../scenarios';
import { measureGets } from './ours-reads';

/** The memory-limit server's fixed ETag. */
const MEMORY_LIMIT_ETAG = '"memory-limit"';

async function writeImageDir(context: BenchContext): Promise<string> {
  const dir = context.workspace.file('memory-limit-images');
  await mkdir(dir, { recursive: true });
  for (const image of context.images) await writeFile(path.join(dir, `${image.name}.png`), image.bytes);
  return dir;
}

export async function measureMemoryLimit(context: BenchContext): Promise<Measurement[]> {
  const launch = benchServer(context, 'memory-limit', { IMAGE_DIR: await writeImageDir(context) });
  return withServer(launch, async (server) => {
    const measurements = await measureGets(context, server, context.images.map((image) => `/image/${image.name}`));
    const revalidatedPath = `/image/${imageAt(context, REVALIDATED_INDEX).name}`;
    const headers = [`If-None-Match: ${MEMORY_LIMIT_ETAG}`];
    measurements.push(await measure(context, server, getLoad(context, REVALIDATION_SCENARIO, revalidatedPath, headers)));
    return measurements;
  });
}

/** Reads the files our server stored, by the same ids. */
export function measureGridFsLimit(context: BenchContext, ids: readonly string[]): Promise<Measurement[]> {
  return withServer(benchServer(context, 'gridfs-limit', { BUCKET_NAME: IMAGES_BUCKET }), (server) =>
    measureGets(context, server, ids.map((id) => `/image/${id}`)),
  );
}

export function measureTutorialPeer(context: BenchContext): Promise<Measurement[]> {
  return withServer(benchServer(context, 'tutorial-peer'), async (server) => {
    const ids: string[] = [];
    for (const image of context.images) ids.push(await uploadToPeer(server.url, image.bytes));
    return measureGets(context, server, ids.map((id) => `/image/${id}`));
  });
}
