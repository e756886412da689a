import { once } from 'node:events';
import sharp from 'sharp';
import { MongoClient, GridFSBucket, ObjectId, type Db } from 'mongodb';
import { makeLargePng, sha256 } from '../helpers/images';
import { multipartBody } from '../helpers/multipart';
import { openRawConnection } from '../helpers/raw-http';
import { startListeningServer, uploadThrough, type ListeningServer } from '../helpers/server-process';
import { openSlowLink, type SlowLink } from '../helpers/slow-link';
import { uriOfNewDatabase } from '../helpers/test-app';
import { eventually } from '../helpers/wait';

const BOUNDARY = 'ShutdownBoundary';

function requestHead(port: number, bodyBytes: number): string {
  return (
    `POST /image/upload HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${bodyBytes}\r\n\r\n`
  );
}

function uploadBody(image: Buffer): Buffer {
  return multipartBody(BOUNDARY, [{ name: 'images', filename: 'late.png', contentType: 'image/png', body: image }]);
}

async function storedChunks(db: Db): Promise<number> {
  return db.collection('images.chunks').countDocuments();
}

async function readBack(db: Db, id: string | ObjectId, bucketName = 'images'): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of new GridFSBucket(db, { bucketName }).openDownloadStream(new ObjectId(id))) {
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

function portOf(server: ListeningServer): number {
  return Number(new URL(server.baseUrl).port);
}

async function exitCode(server: ListeningServer): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const [code] = (await once(server.child, 'exit')) as [number | null];
  return code;
}

async function refusesConnections(server: ListeningServer): Promise<boolean> {
  return fetch(`${server.baseUrl}/healthz`).then(
    () => false,
    () => true,
  );
}

let uri: string;
let client: MongoClient;
let db: Db;

beforeEach(async () => {
  uri = uriOfNewDatabase();
  client = await MongoClient.connect(uri);
  db = client.db();
});

afterEach(async () => {
  await db.dropDatabase();
  await client.close();
});

describe.each(['1', '2'])('graceful shutdown with WEB_CONCURRENCY=%s', (webConcurrency) => {
  async function startWithUploadInFlight(shutdownTimeout: string) {
    const server = await startListeningServer({
      MONGODB_URI: uri,
      SHUTDOWN_TIMEOUT: shutdownTimeout,
      WEB_CONCURRENCY: webConcurrency,
      LOG_LEVEL: 'info',
    });
    const image = await makeLargePng(6 * 1024 * 1024);
    const body = uploadBody(image);
    const half = Math.floor(body.length / 2);
    const connection = openRawConnection(portOf(server));
    connection.write(requestHead(portOf(server), body.length));
    connection.write(body.subarray(0, half));
    await eventually(() => storedChunks(db), (count) => count > 0);
    return { server, image, connection, rest: body.subarray(half) };
  }

  test('when SIGTERM arrives during an upload, then new connections are refused, the upload finishes with 201, and the process exits 0 without warning of a lost database', async () => {
    const { server, image, connection, rest } = await startWithUploadInFlight('20');

    server.child.kill('SIGTERM');
    const refused = await eventually(() => refusesConnections(server), (refusing) => refusing);
    connection.write(rest);
    const answer = await connection.answer;

    expect(refused).toBe(true);
    expect(answer.status).toBe(201);
    expect(answer.headers.connection).toBe('close');
    expect(await exitCode(server)).toBe(0);
    const { images } = JSON.parse(answer.body) as { images: { id: string }[] };
    const id = images[0]?.id ?? '';
    expect(sha256(await readBack(db, id))).toBe(sha256(image));
    expect(await db.collection('images.files').countDocuments()).toBe(1);
    expect(server.stdout()).toContain('"msg":"shut down"');
    expect(server.stdout()).not.toContain('database connection lost');
  });

  test('when an upload outlasts SHUTDOWN_TIMEOUT, then it is cut off, leaves no chunk, and the process exits 0', async () => {
    const { server, connection } = await startWithUploadInFlight('1');
    const signalledAt = Date.now();

    server.child.kill('SIGTERM');
    const answer = await connection.answer;
    const code = await exitCode(server);

    expect(code).toBe(0);
    expect(answer.status).toBeUndefined();
    expect(Date.now() - signalledAt).toBeLessThan(8000);
    expect(await storedChunks(db)).toBe(0);
    expect(await db.collection('images.files').countDocuments()).toBe(0);
    expect(server.stdout()).toContain('"cutOff":1');
  });
});

describe('graceful shutdown while a variant is being written', () => {
  const VARIANT_BUCKET = 'images.variants';
  let link: SlowLink;

  beforeEach(async () => {
    link = await openSlowLink(Number(new URL(uri).port), Infinity);
  });

  afterEach(async () => {
    await link.close();
  });

  /** The server reaches its database through the link, whose pace the test sets. */
  const throughLink = () => uri.replace(/:\d+\//, `:${link.port}/`);

  test('when SIGTERM cuts off a request while its variant is being written, then shutdown waits for the write and leaves the variant whole and claimed', async () => {
    const server = await startListeningServer({ MONGODB_URI: throughLink(), SHUTDOWN_TIMEOUT: '0', LOG_LEVEL: 'info' });
    const { id } = await uploadThrough(server.baseUrl, await makeLargePng(2 * 1024 * 1024));
    // From now on each chunk the server writes takes a couple of seconds to reach the database.
    link.setBytesPerSecond(128 * 1024);
    const cutOff = fetch(`${server.baseUrl}/image/${id}?w=768&format=png`).then(
      (response) => response.status,
      () => 'cut off',
    );
    await eventually(() => db.collection(`${VARIANT_BUCKET}.chunks`).countDocuments(), (chunks) => chunks > 0);
    const claimedBeforeSignal = await db.collection(VARIANT_BUCKET).countDocuments();

    server.child.kill('SIGTERM');
    await eventually(() => Promise.resolve(server.stdout()), (output) => output.includes('"cutOff":1'));
    link.setBytesPerSecond(Infinity);
    const code = await exitCode(server);

    expect(claimedBeforeSignal).toBe(0);
    expect(await cutOff).toBe('cut off');
    expect(code).toBe(0);
    const claims = await db.collection<{ fileId: ObjectId; size: number; chunkSize: number }>(VARIANT_BUCKET).find().toArray();
    expect(claims).toHaveLength(1);
    const [{ fileId, size, chunkSize }] = claims as [(typeof claims)[number]];
    const bytes = await readBack(db, fileId, VARIANT_BUCKET);
    expect(bytes.length).toBe(size);
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'png', width: 768 });
    expect(await db.collection(`${VARIANT_BUCKET}.files`).countDocuments()).toBe(1);
    expect(await db.collection(`${VARIANT_BUCKET}.chunks`).countDocuments()).toBe(Math.ceil(size / chunkSize));
    expect(server.stdout()).toContain('"msg":"shut down"');
  });
});
