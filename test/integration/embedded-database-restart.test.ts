import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeImage, makeLargePng, sha256 } from '../helpers/images';
import { startListeningServer, type ListeningServer } from '../helpers/server-process';
import { eventually } from '../helpers/wait';
import { parseLogLines } from '../helpers/logs';

interface Answer {
  /** How many requests had been sent before this one. */
  readonly sentAfter: number;
  readonly request: string;
  readonly status: number;
  readonly retryAfter: string | null;
  /** The problem document's code, for an error. */
  readonly code: string | undefined;
}

interface LogLine {
  readonly msg: string;
  readonly pid?: number;
  readonly signal?: string;
  readonly restartInMs?: number;
}

function logLines(server: ListeningServer): LogLine[] {
  return parseLogLines<LogLine>(server.stdout());
}

function linesSaying(server: ListeningServer, msg: string): LogLine[] {
  return logLines(server).filter((line) => line.msg === msg);
}

function isAlive(pid: number): boolean {
  // Signal 0 only asks whether the process is there; pid 0 would ask our own process group.
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function problemCodeOf(response: Response): Promise<string | undefined> {
  if (!response.headers.get('content-type')?.startsWith('application/problem+json')) {
    await response.arrayBuffer();
    return undefined;
  }
  const { code } = (await response.json()) as { code?: string };
  return code;
}

async function answerOf(sentAfter: number, request: string, response: Response): Promise<Answer> {
  const code = await problemCodeOf(response);
  return { sentAfter, request, status: response.status, retryAfter: response.headers.get('retry-after'), code };
}

/** The images the server answered 201 for, by id, with the SHA-256 of the bytes sent. */
type Stored = Map<string, string>;

/** Requests to one server, every answer kept, and every image answered 201 remembered. */
function clientOf(baseUrl: string) {
  const answers: Answer[] = [];
  const stored: Stored = new Map();
  let sent = 0;
  const get = async (path: string) => {
    const sentAfter = sent++;
    const answer = await answerOf(sentAfter, `GET ${path}`, await fetch(`${baseUrl}${path}`));
    answers.push(answer);
    return answer;
  };
  const upload = async (bytes: Buffer) => {
    const sentAfter = sent++;
    const form = new FormData();
    form.append('images', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'sent.png');
    const response = await fetch(`${baseUrl}/image/upload`, { method: 'POST', body: form });
    const created = response.status === 201 ? ((await response.clone().json()) as { images: { id: string }[] }) : { images: [] };
    for (const { id } of created.images) stored.set(id, sha256(bytes));
    const answer = await answerOf(sentAfter, 'upload', response);
    answers.push(answer);
    return answer;
  };
  return { answers, stored, get, upload, sent: () => sent };
}

/** Uploads and reads, one after the other, until told to stop. */
function keepRequesting(client: ReturnType<typeof clientOf>, bodies: readonly Buffer[]) {
  let running = true;
  const loop = async () => {
    for (let turn = 0; running; turn++) {
      await client.upload(bodies[turn % bodies.length] ?? Buffer.alloc(0));
      const [id = ''] = client.stored.keys();
      await client.get(`/image/${id}`);
    }
  };
  const done = loop();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Anything but a success or a 503 that says when to come back is a failure of ours. */
function isExpected(answer: Answer): boolean {
  if (answer.status < 300) return true;
  const unavailable = answer.request === 'GET /readyz' || answer.code === 'database-unavailable';
  return answer.status === 503 && answer.retryAfter === '5' && unavailable;
}

let dataDir: string;
let server: ListeningServer;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'image-api-restart-'));
  server = await startListeningServer({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    // Reads and uploads both need the database; a request that finds it away answers at once.
    CACHE_MAX_BYTES: '0',
    MONGODB_TIMEOUT_MS: '100',
    UPLOAD_RATE_LIMIT: '0',
  });
});

afterEach(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function ferretDbPid(): number {
  const [started] = linesSaying(server, 'FerretDB started');
  return started?.pid ?? 0;
}

/**
 * SIGKILLs FerretDB, then each one started in its place as soon as its start is logged, `times`
 * in all. Each restart waits twice as long as the one before, so the database stays away long
 * enough for any request to find it gone, whatever the machine's speed; the pids killed.
 */
async function killFerretDb(times: number): Promise<number[]> {
  const killed: number[] = [];
  for (let pid = ferretDbPid(); killed.length < times; ) {
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
    if (killed.length === times) break;
    const restarts = await eventually(
      () => Promise.resolve(linesSaying(server, 'FerretDB started again')),
      (lines) => lines.length === killed.length,
    );
    pid = restarts[killed.length - 1]?.pid ?? 0;
  }
  return killed;
}

test('when the embedded FerretDB is killed under traffic, again and again, then it is started again ever more slowly, requests meanwhile answer 503 with Retry-After, and every stored image comes back byte for byte', async () => {
  const client = clientOf(server.baseUrl);
  for (let image = 0; image < 5; image++) {
    expect((await client.upload(await makeImage('png', 64 + image, 48))).status).toBe(201);
  }
  const storedBeforeKill = new Map(client.stored);
  const [firstId = ''] = storedBeforeKill.keys();
  expect(isAlive(ferretDbPid())).toBe(true);
  // Large bodies keep chunk writes in flight when the database goes.
  const traffic = keepRequesting(client, [await makeLargePng(1024 * 1024), await makeImage('png')]);
  const answersBeforeKill = client.answers.length;
  await eventually(
    () => Promise.resolve(client.answers.length),
    (count) => count >= answersBeforeKill + 4,
  );

  const [killedPids, notReady, readWhileAway] = await Promise.all([
    killFerretDb(4),
    eventually(
      () => client.get('/readyz'),
      (answer) => answer.status === 503,
    ),
    eventually(
      () => client.get(`/image/${firstId}`),
      (answer) => answer.status === 503,
    ),
  ]);
  const ready = await eventually(
    () => client.get('/readyz'),
    (answer) => answer.status === 200,
    30_000,
  );
  const sentAtRecovery = client.sent();
  await eventually(
    () => Promise.resolve(client.answers.filter((answer) => answer.sentAfter >= sentAtRecovery).length),
    (count) => count >= 4,
  );
  await traffic.stop();

  expect(notReady).toMatchObject({ status: 503, retryAfter: '5' });
  expect(readWhileAway).toMatchObject({ status: 503, retryAfter: '5', code: 'database-unavailable' });
  expect(ready.status).toBe(200);
  expect(server.child.exitCode).toBeNull();
  expect(client.answers.filter((answer) => !isExpected(answer))).toEqual([]);
  const sentOnceReady = client.answers.filter((answer) => answer.sentAfter >= sentAtRecovery);
  expect(sentOnceReady.filter((answer) => answer.status >= 300)).toEqual([]);
  for (const [id, digest] of client.stored) {
    const response = await fetch(`${server.baseUrl}/image/${id}`);
    const readBack = { id, status: response.status, digest: sha256(new Uint8Array(await response.arrayBuffer())) };
    expect(readBack).toEqual({ id, status: 200, digest });
  }
  expect(client.stored.size).toBeGreaterThan(storedBeforeKill.size);
  const exits = linesSaying(server, 'FerretDB exited; starting it again');
  expect(exits.map(({ pid, signal, restartInMs }) => ({ pid, signal, restartInMs }))).toEqual(
    [100, 200, 400, 800].map((restartInMs, kill) => ({ pid: killedPids[kill], signal: 'SIGKILL', restartInMs })),
  );
  const restarts = linesSaying(server, 'FerretDB started again');
  expect(restarts).toHaveLength(4);
  const running = restarts.at(-1)?.pid ?? 0;
  expect(killedPids).not.toContain(running);
  expect(isAlive(running)).toBe(true);
});

/** An answer shows the server past its start-up, with its signal handlers in place. */
async function expectReady(): Promise<void> {
  expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
}

test('when the server shuts down, then its FerretDB stops with it and is not started again', async () => {
  await expectReady();
  const pid = ferretDbPid();
  expect(isAlive(pid)).toBe(true);

  expect(await server.stop()).toBe(0);

  expect(isAlive(pid)).toBe(false);
  expect(linesSaying(server, 'FerretDB exited; starting it again')).toEqual([]);
  expect(linesSaying(server, 'FerretDB started again')).toEqual([]);
});

test('when the server shuts down just after its FerretDB died, then no FerretDB it started outlives it', async () => {
  await expectReady();
  const pid = ferretDbPid();

  process.kill(pid, 'SIGKILL');
  expect(await server.stop()).toBe(0);

  const started = [pid, ...linesSaying(server, 'FerretDB started again').map((line) => line.pid ?? 0)];
  expect(started.filter(isAlive)).toEqual([]);
});
