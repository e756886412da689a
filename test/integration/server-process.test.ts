import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, ObjectId } from 'mongodb';
import { findFreePort, waitForPort } from '../../src/database/ports';
import { makeImage, makeLargePng } from '../helpers/images';
import { openRawConnection, uploadHead } from '../helpers/raw-http';
import { startListeningServer, startServer, uploadThrough } from '../helpers/server-process';
import { uriOfNewDatabase } from '../helpers/test-app';
import { eventually } from '../helpers/wait';

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
  const server = await startListeningServer(environment);
  try {
    return await use(server.baseUrl);
  } finally {
    await server.stop();
  }
}

test('when MONGODB_URI is unset, then it starts its own database in DATA_DIR and images survive a restart', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'image-api-embedded-'));
  const bytes = await makeImage('png');
  const environment = { DATA_DIR: dataDir };

  const { id } = await runUntilStopped(environment, (baseUrl) => uploadThrough(baseUrl, bytes));
  const readBack = await runUntilStopped(environment, async (baseUrl) => {
    const response = await fetch(`${baseUrl}/image/${id}`);
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  });

  expect(readBack.status).toBe(200);
  expect(readBack.bytes.equals(bytes)).toBe(true);
  await rm(dataDir, { recursive: true, force: true });
});

/** Chunks per file id, as someone looking into the database would count them. */
async function chunksPerFile(client: MongoClient): Promise<Map<string, number>> {
  const chunks = await client.db().collection('images.chunks').find({}, { projection: { _id: 0, files_id: 1 } }).toArray();
  const counts = new Map<string, number>();
  for (const { files_id: id } of chunks) counts.set(String(id), (counts.get(String(id)) ?? 0) + 1);
  return counts;
}

interface LoggedRemoval {
  readonly fileId?: unknown;
  readonly chunks?: unknown;
}

function loggedRemovals(stdout: string): LoggedRemoval[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LoggedRemoval)
    .filter((line) => line.fileId !== undefined);
}

test('when the server is killed in the middle of an upload, then once restarted it removes the half upload after the grace and keeps stored images', async () => {
  const uri = uriOfNewDatabase();
  const client = await MongoClient.connect(uri);
  const bytes = await makeImage('png');
  const firstPort = await findFreePort();
  const first = startServer({ PORT: String(firstPort), MONGODB_URI: uri });
  await waitForPort(firstPort, 20_000);
  const { id: keptId } = await uploadThrough(`http://127.0.0.1:${firstPort}`, bytes);
  const half = openRawConnection(firstPort);
  half.write(uploadHead({ boundary: 'Killed', announcedBytes: 40 * 1024 * 1024, filename: 'half.png' }));
  half.write(await makeLargePng(2 * 1024 * 1024));
  const during = await eventually(
    () => chunksPerFile(client),
    (counts) => [...counts.values()].some((count) => count >= 4),
  );
  const [halfId, halfChunks = 0] = [...during].find(([id]) => id !== keptId) ?? [];

  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const port = await findFreePort();
  const second = startServer({ PORT: String(port), MONGODB_URI: uri, ORPHAN_GRACE: '2', ORPHAN_SWEEP_INTERVAL: '1', LOG_LEVEL: 'info' });
  await waitForPort(port, 20_000);

  expect(halfChunks).toBeGreaterThanOrEqual(4);
  const after = await eventually(
    () => chunksPerFile(client),
    (counts) => !counts.has(halfId ?? ''),
    30_000,
  );
  expect(after).toEqual(new Map([[keptId, 1]]));
  const readBack = await fetch(`http://127.0.0.1:${port}/image/${keptId}`);
  expect(readBack.status).toBe(200);
  expect(Buffer.from(await readBack.arrayBuffer()).equals(bytes)).toBe(true);
  expect(await client.db().collection('images.files').countDocuments({ _id: new ObjectId(keptId) })).toBe(1);
  const removals = await eventually(
    () => Promise.resolve(loggedRemovals(second.stdout())),
    (lines) => lines.length > 0,
  );
  expect(removals).toEqual([expect.objectContaining({ level: 30, fileId: halfId })]);
  // A chunk insert the database had already received when the process died may have landed since.
  expect(removals[0]?.chunks).toBeGreaterThanOrEqual(halfChunks);

  second.child.kill('SIGTERM');
  const [code] = (await once(second.child, 'exit')) as [number | null];
  expect(code).toBe(0);
  await client.db().dropDatabase();
  await client.close();
});

test.each([
  ['auto, on a pipe', 'auto', true],
  ['pretty', 'pretty', false],
])('when LOG_FORMAT is %s, then the log lines are JSON only for machines', async (_, format, json) => {
  const server = await startListeningServer({ MONGODB_URI: uriOfNewDatabase(), LOG_LEVEL: 'info', LOG_FORMAT: format });
  await fetch(`${server.baseUrl}/healthz`);
  await server.stop();

  const lines = server.stdout().split('\n').filter((line) => line.includes('request completed'));
  expect(lines).toHaveLength(1);
  const parses = (line: string) => {
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  };
  expect(parses(lines[0] ?? '')).toBe(json);
});
