import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { uploadToPeer } from '../client';
import { benchServer, type BenchContext } from '../context';
import type { Measurement } from '../measure';
import { withServer, type ServerLaunch } from '../processes';
import { measureGets } from './ours-reads';

/** The memory-limit server's fixed ETag. */
export const MEMORY_LIMIT_ETAG = '"memory-limit"';

async function writeImageDir(context: BenchContext): Promise<string> {
  const dir = context.workspace.file('memory-limit-images');
  await mkdir(dir, { recursive: true });
  for (const image of context.images) await writeFile(path.join(dir, `${image.name}.png`), image.bytes);
  return dir;
}

/** The memory-limit server, answering the read images by name from a directory of them. */
export async function memoryLimitLaunch(context: BenchContext): Promise<ServerLaunch> {
  return benchServer(context, 'memory-limit', { IMAGE_DIR: await writeImageDir(context) });
}

export function measureTutorialPeer(context: BenchContext): Promise<Measurement[]> {
  return withServer(benchServer(context, 'tutorial-peer'), async (server) => {
    const ids: string[] = [];
    for (const image of context.images) ids.push(await uploadToPeer(server.url, image.bytes));
    return measureGets(context, server, ids.map((id) => `/image/${id}`));
  });
}
