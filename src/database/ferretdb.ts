import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../core/logger';
import { restartDelayMs, type RestartBackOff } from '../core/restart-delay';
import { waitForPort } from './ports';

const projectRoot = path.resolve(__dirname, '..', '..');
const sourceDir = path.join(projectRoot, 'tools', 'ferretdb');
/** Where binaries are built unless TOOLS_DIR names another folder; git-ignored. */
const DEFAULT_TOOLS_DIR = path.join(projectRoot, '.tools');

/** Everything the binary is built from: our program, its module files, the build script and our patches to FerretDB. */
function buildInputs(): string[] {
  const program = readdirSync(sourceDir).filter((name) => name.endsWith('.go') && !name.endsWith('_test.go'));
  const patches = readdirSync(path.join(sourceDir, 'patches')).map((name) => path.join('patches', name));
  return [...program, 'go.mod', 'go.sum', 'build.sh', ...patches].sort();
}

/** Named after its sources, so that a change to them builds a new binary instead of reusing a stale one. */
function binaryPath(toolsDir = DEFAULT_TOOLS_DIR): string {
  const hash = createHash('sha256');
  for (const file of buildInputs()) hash.update(file).update(readFileSync(path.join(sourceDir, file)));
  return path.resolve(toolsDir, `ferretdb-${hash.digest('hex').slice(0, 12)}`);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether `go` is on PATH, where build.sh will look for it. */
export function goIsInstalled(): boolean {
  const folders = (process.env.PATH ?? '').split(path.delimiter).filter((folder) => folder !== '');
  return folders.some((folder) => isExecutableFile(path.join(folder, 'go')));
}

/** The binary of the current sources in `toolsDir`, when it has been built. */
export function builtFerretDb(toolsDir?: string): string | undefined {
  const binary = binaryPath(toolsDir);
  return existsSync(binary) ? binary : undefined;
}

/** Whether FerretDB can run here: built already, or Go is there to build it. */
export function canRunFerretDb(toolsDir?: string): boolean {
  return builtFerretDb(toolsDir) !== undefined || goIsInstalled();
}

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Builds the project's FerretDB program once into `toolsDir`; later calls find the binary and return at once. */
export async function buildFerretDb(logger: Logger, toolsDir?: string): Promise<string> {
  const ferretDbBinary = binaryPath(toolsDir);
  if (existsSync(ferretDbBinary)) return ferretDbBinary;
  logger.info({ sourceDir }, 'building FerretDB from its Go module (once; about a minute)');
  await mkdir(path.dirname(ferretDbBinary), { recursive: true });
  const partial = `${ferretDbBinary}.${process.pid}.partial`;
  await promisify(execFile)('bash', [path.join(sourceDir, 'build.sh'), 'build', partial]);
  await rename(partial, ferretDbBinary);
  return ferretDbBinary;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A FerretDB that dies as it starts is started again after 100 ms, then ever more slowly up to 5 s. */
export const FERRETDB_RESTARTS: RestartBackOff = { stableAfterMs: 30_000, firstDelayMs: 100, longestDelayMs: 5000 };

interface FerretDbOptions {
  readonly dataDir: string;
  readonly port: number;
  /** Where the binary is built and looked for; unset: the project's `.tools/`. */
  readonly toolsDir?: string | undefined;
  readonly logger: Logger;
}

function spawnFerretDb(binary: string, options: FerretDbOptions): ChildProcess {
  // Its standard input stays open as long as this process lives: FerretDB exits when it closes.
  return spawn(
    binary,
    ['-listen', `127.0.0.1:${options.port}`, '-data', options.dataDir, '-exit-on-stdin-eof'],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
}

type Ending = { readonly code: number | null; readonly signal: NodeJS.Signals | null } | { readonly err: Error };

/** Calls `ended` once, whether the process exits or could not be started at all (when Node may emit both events, or only `error`). */
function onEnd(child: ChildProcess, ended: (ending: Ending) => void): void {
  let done = false;
  const end = (ending: Ending) => {
    if (done) return;
    done = true;
    ended(ending);
  };
  child.once('exit', (code, signal) => end({ code, signal }));
  child.once('error', (err) => end({ err }));
}

export interface RunningFerretDb {
  readonly port: number;
  /** Stops it for good: no restart follows. */
  stop(): Promise<void>;
}

/**
 * Keeps FerretDB running after its start: one that exits without being asked to is started
 * again on the same port and data folder, at once after a long life, else ever more slowly.
 * The driver reconnects by itself once the port answers; until then requests answer 503.
 */
function supervise(binary: string, first: ChildProcess, options: FerretDbOptions): RunningFerretDb {
  const { logger, port } = options;
  let running: ChildProcess | undefined;
  let startedAt = 0;
  let delayMs = 0;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const watch = (child: ChildProcess) => {
    running = child;
    startedAt = Date.now();
    onEnd(child, (ending) => {
      running = undefined;
      if (stopped) return;
      delayMs = restartDelayMs(FERRETDB_RESTARTS, Date.now() - startedAt, delayMs);
      logger.error({ pid: child.pid, ...ending, restartInMs: delayMs }, 'FerretDB exited; starting it again');
      restartTimer = setTimeout(restart, delayMs);
    });
  };
  const restart = () => {
    const child = spawnFerretDb(binary, options);
    logger.info({ pid: child.pid, port }, 'FerretDB started again');
    watch(child);
  };
  watch(first);
  return {
    port,
    stop: async () => {
      stopped = true;
      clearTimeout(restartTimer);
      if (!running) return;
      running.kill('SIGTERM');
      await waitForExit(running, STOP_TIMEOUT_MS);
    },
  };
}

export async function startFerretDb(options: FerretDbOptions): Promise<RunningFerretDb> {
  const binary = await buildFerretDb(options.logger, options.toolsDir);
  await mkdir(options.dataDir, { recursive: true });
  const child = spawnFerretDb(binary, options);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`FerretDB exited during start-up (${signal ?? code})`)));
  });
  exited.catch(() => undefined);
  await Promise.race([waitForPort(options.port, STARTUP_TIMEOUT_MS), exited]);
  options.logger.info({ pid: child.pid, port: options.port }, 'FerretDB started');
  return supervise(binary, child, options);
}
