import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { findFreePort, waitForPort } from '../../src/database/ports';

const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

const running = new Set<ChildProcess>();
// However the run ends, no server or wrk it started outlives it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Starts a new high-water mark, so that the next reading covers only what follows. */
  resetPeakMemory(): Promise<void>;
  /** VmHWM: the most resident memory the process has held since the last reset. */
  peakMemoryBytes(): Promise<number>;
  /** Bytes the process has read from sockets and files so far: for uploads, the request bodies it took in. */
  bytesRead(): Promise<number>;
  stop(): Promise<void>;
}

export interface ServerLaunch {
  readonly name: string;
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /** Node's own options, before the script. */
  readonly nodeOptions?: readonly string[];
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exitFailure(child: ChildProcess, name: string): Promise<never> {
  const failure = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${name} exited during start-up (${signal ?? String(code)})`)));
  });
  failure.catch(() => undefined);
  return failure;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function statusFile(child: ChildProcess, name: string, file: string): string {
  if (hasExited(child) || child.pid === undefined) throw new Error(`${name} is not running any more`);
  return `/proc/${child.pid}/${file}`;
}

async function readField(path: string, field: string): Promise<number> {
  const line = (await readFile(path, 'utf8')).split('\n').find((entry) => entry.startsWith(`${field}:`));
  const value = /:\s*(\d+)/.exec(line ?? '')?.[1];
  if (value === undefined) throw new Error(`no ${field} in ${path}`);
  return Number(value);
}

/** Runs `node <script>` on a free port (env PORT) and resolves once it accepts connections. */
export async function startServer(launch: ServerLaunch): Promise<ServerProcess> {
  const port = await findFreePort();
  const child = spawn(process.execPath, [...(launch.nodeOptions ?? []), launch.script], {
    env: { ...process.env, ...launch.env, PORT: String(port) },
    // Their logs go to our stderr, so that stdout holds only the report.
    stdio: ['ignore', 2, 2],
  });
  killOnExit(child);
  try {
    await Promise.race([waitForPort(port, STARTUP_TIMEOUT_MS), exitFailure(child, launch.name)]);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  if (child.pid === undefined) throw new Error(`${launch.name} has no process id`);
  return {
    name: launch.name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    // Writing 5 to clear_refs resets VmHWM to the current resident size (Linux 4.0 and later).
    resetPeakMemory: () => writeFile(statusFile(child, launch.name, 'clear_refs'), '5'),
    peakMemoryBytes: async () => (await readField(statusFile(child, launch.name, 'status'), 'VmHWM')) * 1024,
    bytesRead: () => readField(statusFile(child, launch.name, 'io'), 'rchar'),
    stop: () => stopChild(child),
  };
}

/** Starts a server, hands it to `use`, and stops it whatever happens. */
export async function withServer<T>(launch: ServerLaunch, use: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServer(launch);
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}
