import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger';
import { waitForPort } from './ports';

const projectRoot = path.resolve(__dirname, '..', '..');
const sourceDir = path.join(projectRoot, 'tools', 'ferretdb');

/** Everything the binary is built from: our program, its module files, the build script and our patches to FerretDB. */
function buildInputs(): string[] {
  const program = readdirSync(sourceDir).filter((name) => name.endsWith('.go') && !name.endsWith('_test.go'));
  const patches = readdirSync(path.join(sourceDir, 'patches')).map((name) => path.join('patches', name));
  return [...program, 'go.mod', 'go.sum', 'build.sh', ...patches].sort();
}

/** Named after its sources, so that a change to them builds a new binary instead of reusing a stale one. */
function binaryPath(): string {
  const hash = createHash('sha256');
  for (const file of buildInputs()) hash.update(file).update(readFileSync(path.join(sourceDir, file)));
  return path.join(projectRoot, '.tools', `ferretdb-${hash.digest('hex').slice(0, 12)}`);
}

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Builds the project's FerretDB program once; later calls find the binary and return at once. */
export async function buildFerretDb(logger: Logger): Promise<string> {
  const ferretDbBinary = binaryPath();
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

export interface RunningFerretDb {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startFerretDb(options: { dataDir: string; port: number; logger: Logger }): Promise<RunningFerretDb> {
  const binary = await buildFerretDb(options.logger);
  await mkdir(options.dataDir, { recursive: true });
  // Its standard input stays open as long as this process lives: FerretDB exits when it closes.
  const child = spawn(
    binary,
    ['-listen', `127.0.0.1:${options.port}`, '-data', options.dataDir, '-exit-on-stdin-eof'],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`FerretDB exited during start-up (${signal ?? code})`)));
  });
  exited.catch(() => undefined);
  await Promise.race([waitForPort(options.port, STARTUP_TIMEOUT_MS), exited]);
  return {
    port: options.port,
    stop: async () => {
      child.kill('SIGTERM');
      await waitForExit(child, STOP_TIMEOUT_MS);
    },
  };
}
