import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildFerretDb } from '../../src/database/ferretdb';
import { startListeningServer, startServer, type ServerOptions } from '../helpers/server-process';

let home: string;

/**
 * A machine where mongodb-memory-server finds no mongod: its caches are under HOME and the
 * working folder, both new and empty here (and no `.env` is read there either).
 */
function isolated(environment: Record<string, string>): [Record<string, string>, ServerOptions] {
  return [{ HOME: home, DATA_DIR: path.join(home, 'data'), ...environment }, { cwd: home }];
}

/** This PATH without the folders that hold `go`, and with one of its own that holds node. */
async function pathWithoutGo(): Promise<string> {
  const nodeFolder = path.join(home, 'bin');
  await mkdir(nodeFolder);
  await symlink(process.execPath, path.join(nodeFolder, 'node'));
  const folders = (process.env.PATH ?? '').split(path.delimiter).filter((folder) => folder !== '' && !existsSync(path.join(folder, 'go')));
  return [nodeFolder, ...folders].join(path.delimiter);
}

/** A server that takes connections and never answers: a network that lets nothing through. */
async function listenSilently(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'image-api-choice-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

test('when there is no MONGODB_URI, no mongod, no Go, no built FerretDB and no answer from the download server, then start-up stops within seconds, naming the three ways out', async () => {
  const emptyTools = path.join(home, 'tools');
  const downloads = await listenSilently();
  const [environment, options] = isolated({ PATH: await pathWithoutGo(), TOOLS_DIR: emptyTools, MONGOMS_DOWNLOAD_MIRROR: downloads.url });
  const startedAt = Date.now();

  const server = startServer(environment, options);
  const [code] = (await once(server.child, 'exit')) as [number | null];

  const tookMs = Date.now() - startedAt;
  await downloads.close();
  expect(code).toBe(1);
  // Start-up itself takes a few seconds on a busy machine; the download would wait a minute for an answer, and retry.
  expect(tookMs).toBeLessThan(20_000);
  expect(server.stderr()).toBe(
    [
      'MONGODB_URI is unset, and no database can be started here: no mongod was found, Go is not',
      `installed to build FerretDB with, and mongod could not be downloaded (${downloads.url}: no answer within 1500 ms).`,
      'Any one of these fixes it:',
      '  - set MONGODB_URI to a MongoDB server of yours (in the environment or in .env);',
      '  - install Go (https://go.dev/dl/): npm start then builds FerretDB, once;',
      '  - install mongod and set MONGOMS_SYSTEM_BINARY to its path, or allow downloads from',
      `    ${downloads.url} so that a mongod is downloaded, once.`,
      '',
    ].join('\n'),
  );
  expect(existsSync(emptyTools)).toBe(false);
});

test('when Go is not installed but FerretDB is built, then it starts on FerretDB', async () => {
  // Built where the server looks by default (the project's .tools/), as `npm install` builds it.
  await buildFerretDb(pino({ level: 'warn' }));
  const [environment, options] = isolated({ PATH: await pathWithoutGo(), LOG_LEVEL: 'info' });

  const server = await startListeningServer(environment, options);
  const ready = await fetch(`${server.baseUrl}/readyz`);
  const code = await server.stop();

  expect(ready.status).toBe(200);
  expect(code).toBe(0);
  const started = server
    .stdout()
    .split('\n')
    .filter((line) => line.includes('started the embedded database'))
    .map((line) => JSON.parse(line) as { database: string });
  expect(started).toEqual([expect.objectContaining({ database: `FerretDB (SQLite), data in ${path.join(home, 'data', 'ferretdb')}` })]);
});

test('when Go is not installed and FerretDB is not built, then npm run build:ferretdb says so in one line and succeeds', async () => {
  const script = path.resolve(__dirname, '../../tools/build-ferretdb.ts');
  const [environment, options] = isolated({
    PATH: await pathWithoutGo(),
    TOOLS_DIR: path.join(home, 'tools'),
    TS_NODE_PROJECT: path.resolve(__dirname, '../../tsconfig.json'),
  });
  const build = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), script], { ...options, env: environment });
  let output = '';
  build.stdout.on('data', (part: Buffer) => (output += part.toString()));
  build.stderr.on('data', (part: Buffer) => (output += part.toString()));

  const [code] = (await once(build, 'exit')) as [number | null];

  expect(code).toBe(0);
  expect(output).toBe('FerretDB not built: Go is not installed, so npm start will need MONGODB_URI or a mongod (README: The database)\n');
});
