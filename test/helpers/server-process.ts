import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { findFreePort, waitForPort } from '../../src/database/ports';

const serverEntry = path.resolve(__dirname, '../../src/server.ts');
/** Both named here, so that a server may run in any folder. */
const tsNode = require.resolve('ts-node/register/transpile-only');
const tsConfig = path.resolve(__dirname, '../../tsconfig.json');

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

export interface ServerOptions {
  /** The folder it runs in, where it reads `.env` and mongodb-memory-server looks for mongod; by default this one. */
  readonly cwd?: string;
}

/** `src/server.ts` as `npm start` runs it, with only the given environment. */
export function startServer(environment: Record<string, string>, options: ServerOptions = {}): ServerProcess {
  const child = spawn(process.execPath, ['-r', tsNode, serverEntry], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: tsConfig, LOG_LEVEL: 'warn', ...environment },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (part: Buffer) => (stdout += part.toString()));
  child.stderr.on('data', (part: Buffer) => (stderr += part.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

export interface ListeningServer extends ServerProcess {
  readonly baseUrl: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** A server process on a free port, once it accepts connections. */
export async function startListeningServer(environment: Record<string, string>, options: ServerOptions = {}): Promise<ListeningServer> {
  const port = await findFreePort();
  const server = startServer({ ...environment, PORT: String(port) }, options);
  const exited = once(server.child, 'exit').then(([code]: unknown[]) => {
    throw new Error(`the server exited with ${String(code)} before it listened: ${server.stderr()}`);
  });
  await Promise.race([waitForPort(port, 60_000), exited]);
  return {
    ...server,
    baseUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return server.child.exitCode;
      server.child.kill('SIGTERM');
      const [code] = (await once(server.child, 'exit')) as [number | null];
      return code;
    },
  };
}

export interface UploadedThrough {
  readonly id: string;
  readonly url: string;
}

/** One PNG uploaded through a server's port as a browser form sends it; anything but 201 fails the test. */
export async function uploadThrough(baseUrl: string, bytes: Buffer, filename = 'sent.png'): Promise<UploadedThrough> {
  const form = new FormData();
  form.append('images', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), filename);
  const response = await fetch(`${baseUrl}/image/upload`, { method: 'POST', body: form });
  if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { images: UploadedThrough[] };
  const [image] = body.images;
  if (!image) throw new Error('upload answered no image');
  return { id: image.id, url: image.url };
}
