import { get } from 'node:http';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { countChunks, writeChunks } from '../helpers/chunks';
import { makeImage } from '../helpers/images';
import { startListeningServer, uploadThrough, type ListeningServer } from '../helpers/server-process';
import { uriOfNewDatabase } from '../helpers/test-app';
import { eventually } from '../helpers/wait';
import { parseLogLines } from '../helpers/logs';

interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

/** A request on a connection of its own: the cluster hands each new connection to the next worker. */
function getOnNewConnection(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

interface LogLine {
  readonly pid: number;
  readonly msg: string;
  readonly req?: { readonly url: string };
}

function logLines(server: ListeningServer): LogLine[] {
  return parseLogLines<LogLine>(server.stdout());
}

/** The processes that logged answering `url`. */
function pidsThatServed(server: ListeningServer, url: string): Set<number> {
  return new Set(logLines(server).filter((line) => line.msg === 'request completed' && line.req?.url === url).map((line) => line.pid));
}

function requestCount(metricsText: string, route: string): number {
  const line = metricsText
    .split('\n')
    .find((candidate) => candidate.startsWith(`http_request_duration_seconds_count{method="GET",route="${route}",status="200"}`));
  return Number(line?.split(' ').at(-1));
}

describe('WEB_CONCURRENCY=2', () => {
  const abandonedUpload = new ObjectId();
  let client: MongoClient;
  let db: Db;
  let server: ListeningServer;

  beforeAll(async () => {
    const uri = uriOfNewDatabase();
    client = await MongoClient.connect(uri);
    db = client.db();
    await writeChunks(db, 'images', { filesId: abandonedUpload, secondsAgo: [120, 90] });
    server = await startListeningServer({
      MONGODB_URI: uri,
      WEB_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
      ORPHAN_GRACE: '60',
      ORPHAN_SWEEP_INTERVAL: '1',
    });
  });

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
    await db.dropDatabase();
    await client.close();
  });

  test('when an upload was abandoned, then the primary alone sweeps its chunks', async () => {
    await eventually(
      () => countChunks(db, 'images', abandonedUpload),
      (count) => count === 0,
    );

    const removals = logLines(server).filter((line) => line.msg === 'removed the chunks of an upload that never finished');
    expect(removals.map((line) => line.pid)).toEqual([server.child.pid]);
  });

  test('when images are read on new connections, then two worker processes answer them byte-exact', async () => {
    const bytes = await makeImage('png');
    const { url } = await uploadThrough(server.baseUrl, bytes);
    const answers: Answer[] = [];

    // Until both workers have started (a slow machine may take seconds), the first one answers all.
    const pids = await eventually(
      async () => {
        answers.push(...(await Promise.all(Array.from({ length: 4 }, () => getOnNewConnection(`${server.baseUrl}${url}`)))));
        return pidsThatServed(server, url);
      },
      (served) => served.size === 2,
      30_000,
    );

    expect(answers.every((answer) => answer.status === 200 && answer.body.equals(bytes))).toBe(true);
    expect(pids.size).toBe(2);
    expect(pids.has(server.child.pid ?? 0)).toBe(false);
  });

  test('when /metrics is scraped, then it counts the requests of every worker', async () => {
    await Promise.all(Array.from({ length: 10 }, () => getOnNewConnection(`${server.baseUrl}/healthz`)));
    await eventually(
      () => Promise.resolve(pidsThatServed(server, '/healthz')),
      (served) => served.size === 2,
    );

    const scraped = await getOnNewConnection(`${server.baseUrl}/metrics`);

    expect(scraped.status).toBe(200);
    expect(requestCount(scraped.body.toString(), '/healthz')).toBe(10);
  });

  test('when a worker dies, then the primary starts another and requests are still answered', async () => {
    await getOnNewConnection(`${server.baseUrl}/readyz`);
    const [victim] = await eventually(
      () => Promise.resolve([...pidsThatServed(server, '/readyz')]),
      (served) => served.length > 0,
    );

    process.kill(victim ?? 0, 'SIGKILL');
    await eventually(
      () => Promise.resolve(logLines(server).filter((line) => line.msg === 'a worker died; starting another')),
      (lines) => lines.length > 0,
    );
    const answers = await eventually(
      () => Promise.all(Array.from({ length: 4 }, () => getOnNewConnection(`${server.baseUrl}/readyz`))),
      (batch) => batch.every((answer) => answer.status === 200),
      20_000,
    );

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    // The new worker connects to the database before it takes requests: seconds on a loaded machine.
    const servedAfter = await eventually(
      async () => {
        await getOnNewConnection(`${server.baseUrl}/readyz`);
        return pidsThatServed(server, '/readyz');
      },
      (served) => served.size === 3,
      40_000,
    );
    expect(servedAfter.size).toBe(3);
  }, 120_000);
});
