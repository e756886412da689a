import { rmSync } from 'node:fs';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A temporary folder for one run: database files, images, scripts, compiled servers. */
export interface Workspace {
  readonly dir: string;
  file(name: string): string;
  freeBytes(): Promise<number>;
  remove(): Promise<void>;
}

export async function createWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(path.join(tmpdir(), 'image-api-bench-'));
  // An interrupted run (Ctrl-C) never reaches the finally blocks that would remove it.
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  return {
    dir,
    file: (name) => path.join(dir, name),
    freeBytes: async () => {
      const stats = await statfs(dir);
      return stats.bavail * stats.bsize;
    },
    remove: async () => {
      process.off('exit', removeOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
