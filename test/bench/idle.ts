import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const SAMPLE_MS = 500;
/** CPU clock ticks (1/100 s on Linux) that still count as idle in one sample: under 4% of a core. */
const IDLE_TICKS_PER_SAMPLE = 2;
const QUIET_SAMPLES_NEEDED = 2;
const MAX_WAIT_MS = 180_000;

/** The fields of /proc/<pid>/stat after the command name, which may hold spaces. */
async function statFields(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User and system CPU time so far, in clock ticks; a process that has gone counts as idle. */
async function cpuTicks(pid: number): Promise<number> {
  const fields = await statFields(pid);
  return Number(fields?.[11] ?? 0) + Number(fields?.[12] ?? 0);
}

export async function childPids(parent: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
  const parents = await Promise.all(pids.map(async (pid) => Number((await statFields(pid))?.[1])));
  return pids.filter((_, index) => parents[index] === parent);
}

async function totalTicks(pids: readonly number[]): Promise<number> {
  const ticks = await Promise.all(pids.map(cpuTicks));
  return ticks.reduce((sum, value) => sum + value, 0);
}

/**
 * Waits until the processes stop using the CPU: a server or database still working through
 * the requests of clients that have gone (slow reads, aborted uploads being deleted) would
 * otherwise take its share from whatever is measured next.
 */
export async function waitUntilIdle(pids: readonly number[], what: string): Promise<void> {
  const started = Date.now();
  let quietSamples = 0;
  let before = await totalTicks(pids);
  while (quietSamples < QUIET_SAMPLES_NEEDED) {
    if (Date.now() - started > MAX_WAIT_MS) {
      console.error(`  ${what} still busy after ${MAX_WAIT_MS / 1000} s; going on`);
      return;
    }
    await sleep(SAMPLE_MS);
    const now = await totalTicks(pids);
    quietSamples = now - before <= IDLE_TICKS_PER_SAMPLE ? quietSamples + 1 : 0;
    before = now;
  }
  const waited = Date.now() - started;
  if (waited > 5_000) console.error(`  waited ${(waited / 1000).toFixed(1)} s for ${what} to go idle`);
}
