import http from 'node:http';
import { ObjectId, type Db } from 'mongodb';
import request, { type Response } from 'supertest';
import { download } from '../helpers/http';
import { makeLargePng } from '../helpers/images';
import { multipartBody } from '../helpers/multipart';
import { expectProblem } from '../helpers/problem';
import { listen, type RunningServer } from '../helpers/server';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { createRawUpload, patchRaw } from '../helpers/tus';
import { eventually } from '../helpers/wait';

const BUCKET = 'images';

/** The instance that receives the uploads, on a real port, and a second one on the same database. */
let writer: TestApp;
let server: RunningServer;
let other: TestApp;

beforeEach(async () => {
  writer = await startTestApp();
  server = await listen(writer.app, writer.config);
  other = await startTestApp({ databaseName: writer.db.databaseName });
});

afterEach(async () => {
  await server.close();
  await other.close();
  await writer.close();
});

const baseUrl = () => `http://127.0.0.1:${server.port}`;

const instances = [
  ['the instance writing it', () => writer],
  ['another instance', () => other],
] as const;

interface Answer {
  readonly status: number | undefined;
  readonly body: string;
}

/** A multipart upload of `body` whose first `sentFirst` bytes go out now and the rest when `finish` is called. */
function startUploadInParts(body: Buffer, boundary: string, sentFirst: number): { finish: () => Promise<Answer> } {
  const upload = http.request({
    port: server.port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/image/upload',
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(body.length) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    upload.once('error', reject);
    upload.once('response', (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.once('end', () => resolve({ status: response.statusCode, body: Buffer.concat(parts).toString('utf8') }));
    });
  });
  // A test that fails before `finish` leaves the request to be cut off by the server's close.
  answer.catch(() => undefined);
  upload.write(body.subarray(0, sentFirst));
  return {
    finish: () => {
      upload.end(body.subarray(sentFirst));
      return answer;
    },
  };
}

/** The id of the one file the bucket holds chunks of, once it has at least `count`: the upload under way. */
async function fileWritingChunk(db: Db, count: number): Promise<ObjectId> {
  const chunks = db.collection<{ files_id: ObjectId; n: number }>(`${BUCKET}.chunks`);
  const chunk = await eventually(
    () => chunks.findOne({ n: count - 1 }),
    (found) => found !== null,
  );
  if (!chunk) throw new Error(`no upload wrote ${count} chunks`);
  return chunk.files_id;
}

function chunksOf(id: ObjectId): Promise<number> {
  return writer.db.collection(`${BUCKET}.chunks`).countDocuments({ files_id: id });
}

async function expectReadableFromBoth(id: string, bytes: Buffer): Promise<void> {
  for (const instance of [writer, other]) {
    const read = await download(instance.app, `/image/${id}`);
    expect(read.status).toBe(200);
    expect(read.bytes.equals(bytes)).toBe(true);
  }
}

async function expectDeletedWithNothingLeft(id: string): Promise<void> {
  await request(other.app).delete(`/image/${id}`).expect(204);
  expectProblem(await request(writer.app).get(`/image/${id}`), 404, 'image-not-found');
  expect(await writer.stored()).toEqual({ files: 0, chunks: 0 });
}

describe('a multipart upload', () => {
  const boundary = 'DeleteRaceBoundary';

  test.each(instances)(
    'when its id is deleted on %s while its body is still arriving, then 404, and the upload answers 201 with every byte readable',
    async (_where, deleter) => {
      const bytes = await makeLargePng(1024 * 1024);
      const body = multipartBody(boundary, [{ name: 'images', filename: 'slow.png', contentType: 'image/png', body: bytes }]);
      const upload = startUploadInParts(body, boundary, 600 * 1024);
      const id = await fileWritingChunk(writer.db, 2);
      const written = await chunksOf(id);

      expectProblem(await request(deleter().app).delete(`/image/${id.toHexString()}`), 404, 'image-not-found');
      expect(await chunksOf(id)).toBe(written);
      const answer = await upload.finish();

      expect(answer.status).toBe(201);
      expect(JSON.parse(answer.body)).toMatchObject({ images: [{ id: id.toHexString(), size: bytes.length }] });
      await expectReadableFromBoth(id.toHexString(), bytes);
      await expectDeletedWithNothingLeft(id.toHexString());
    },
  );

  test('when its chunks are removed while it is written (a sweep that took it for abandoned), then it is refused and nothing of it stays', async () => {
    const bytes = await makeLargePng(1024 * 1024);
    const body = multipartBody(boundary, [{ name: 'images', filename: 'swept.png', contentType: 'image/png', body: bytes }]);
    const upload = startUploadInParts(body, boundary, 600 * 1024);
    const id = await fileWritingChunk(writer.db, 2);

    await other.repository.deleteOrphans([id.toHexString()]);
    const answer = await upload.finish();

    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'internal-error' });
    expectProblem(await request(writer.app).get(`/image/${id.toHexString()}`), 404, 'image-not-found');
    expect(await writer.stored()).toEqual({ files: 0, chunks: 0 });
  });
});

describe('a resumable upload', () => {
  const HALF_MIB = 512 * 1024;

  test.each(instances)(
    'when its id is deleted on %s between two PATCHes, then 404, and the last PATCH answers 204 with every byte readable',
    async (_where, deleter) => {
      const bytes = await makeLargePng(1024 * 1024);
      const path = await createRawUpload(baseUrl(), bytes.length, 'resumed.png');
      const id = path.split('/').at(-1) ?? '';
      expect((await patchRaw(baseUrl(), path, 0, bytes.subarray(0, HALF_MIB))).status).toBe(204);
      expect(await chunksOf(new ObjectId(id))).toBe(2);

      expectProblem(await request(deleter().app).delete(`/image/${id}`), 404, 'image-not-found');
      expect(await chunksOf(new ObjectId(id))).toBe(2);
      const last = await patchRaw(baseUrl(), path, HALF_MIB, bytes.subarray(HALF_MIB));

      expect(last.status).toBe(204);
      expect(last.headers.get('x-image-id')).toBe(id);
      await expectReadableFromBoth(id, bytes);
      await expectDeletedWithNothingLeft(id);
    },
  );

  test('when its chunks vanish between two PATCHes, then the last PATCH answers 404 and nothing of it stays', async () => {
    const bytes = await makeLargePng(1024 * 1024);
    const path = await createRawUpload(baseUrl(), bytes.length, 'vanished.png');
    const id = path.split('/').at(-1) ?? '';
    expect((await patchRaw(baseUrl(), path, 0, bytes.subarray(0, HALF_MIB))).status).toBe(204);

    await writer.db.collection(`${BUCKET}.chunks`).deleteMany({ files_id: new ObjectId(id) });
    const last: Response = await request(writer.app)
      .patch(path)
      .set({ 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(HALF_MIB), 'Content-Type': 'application/offset+octet-stream' })
      .send(bytes.subarray(HALF_MIB));

    expectProblem(last, 404, 'upload-not-found');
    expectProblem(await request(writer.app).get(`/image/${id}`), 404, 'image-not-found');
    expect(await writer.stored()).toEqual({ files: 0, chunks: 0 });
    expect(await writer.db.collection(`${BUCKET}.uploads`).countDocuments()).toBe(0);
  });
});
