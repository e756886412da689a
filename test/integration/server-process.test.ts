import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort, waitForPort } from '../../src/database/ports';
import { makeImage } from '../helpers/images';

const serverEntry = path.resolve(__dirname, '../../src/server.ts');

function startServer(environment: Record<string, string>) {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', serverEntry], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (part: Buffer) => (stderr += part.toString()));
  return { child, stderr: () => stderr };
}

test('when a setting is invalid, then start-up stops with exit code 1 and one line naming it', async () => {
  const server = startServer({ MAX_FILES: 'many', MONGODB_URI: 'mongodb://127.0.0.1:1/unused' });

  const [code] = (await once(server.child, 'exit')) as [number | null];

  expect(code).toBe(1);
  expect(server.stderr()).toBe('Invalid configuration: MAX_FILES must be a whole number between 1 and 1000 (got "many")\n');
});

test('when started with MONGODB_URI, then it serves the API and exits 0 on SIGTERM', async () => {
  const port = await findFreePort();
  const server = startServer({ PORT: String(port), MONGODB_URI: process.env.MONGODB_URI ?? '' });
  await waitForPort(port, 20_000);

  const response = await fetch(`http://127.0.0.1:${port}/image/0123456789abcdef01234567`);
  expect(response.status).toBe(404);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);

  server.child.kill('SIGTERM');
  const [code] = (await once(server.child, 'exit')) as [number | null];
  expect(code).toBe(0);
});

async function runUntilStopped<T>(environment: Record<string, string>, use: (baseUrl: string) => Promise<T>): Promise<T> {
  const port = await findFreePort();
  const server = startServer({ ...environment, PORT: String(port) });
  try {
    await waitForPort(port, 60_000);
    return await use(`http://127.0.0.1:${port}`);
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
  }
}

test('when MONGODB_URI is unset, then it starts its own database in DATA_DIR and images survive a restart', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'image-api-embedded-'));
  const bytes = await makeImage('png');
  const environment = { DATA_DIR: dataDir };

  const id = await runUntilStopped(environment, async (baseUrl) => {
    const form = new FormData();
    form.append('images', new Blob([bytes], { type: 'image/png' }), 'kept.png');
    const response = await fetch(`${baseUrl}/image/upload`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { images: { id: string }[] };
    return body.images[0]?.id ?? '';
  });
  const readBack = await runUntilStopped(environment, async (baseUrl) => {
    const response = await fetch(`${baseUrl}/image/${id}`);
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  });

  expect(readBack.status).toBe(200);
  expect(readBack.bytes.equals(bytes)).toBe(true);
  await rm(dataDir, { recursive: true, force: true });
});
