import { ObjectId } from 'mongodb';
import { RESUMABLE_CHUNK_SIZE } from '../../src/uploads/resumable/resumable-uploads';
import { countChunks } from '../helpers/chunks';
import { countLocks, recordedOffset } from '../helpers/upload-state';
import { download, upload } from '../helpers/http';
import { makeImage, makeLargePng, sha256 } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { answerOf, createRawUpload, patchCutOff, patchHeld, patchRaw, TUS_HEADERS, tusUpload, uploadMetadata } from '../helpers/tus';
import { eventually } from '../helpers/wait';

const KIB = 1024;
const MIB = 1024 * KIB;
const HALF = 512 * KIB;
/** A PATCH stores its bytes a whole chunk at a time. */
const CHUNK = RESUMABLE_CHUNK_SIZE;

describe('resumable uploads with tus', () => {
  const running = useListeningTestApp();
  const baseUrl = () => `http://127.0.0.1:${running.server.port}`;
  const uploadStates = () => running.api.db.collection('images.uploads').countDocuments();

  const createUpload = (length: number) => createRawUpload(baseUrl(), length, 'cut.png');

  const chunksOf = (path: string) => countChunks(running.api.db, 'images', new ObjectId(path.split('/').at(-1)));

  const locksOf = (path: string) => countLocks(running.api.db, path);

  const offsetOf = async (path: string) =>
    Number((await fetch(`${baseUrl()}${path}`, { method: 'HEAD', headers: TUS_HEADERS })).headers.get('upload-offset'));

  const patch = (path: string, offset: number, bytes: Buffer) => patchRaw(baseUrl(), path, offset, bytes);

  test('when OPTIONS asks, then the protocol, its extensions and MAX_FILE_SIZE are announced', async () => {
    const response = await fetch(`${baseUrl()}/image/uploads`, { method: 'OPTIONS' });

    expect(response.status).toBe(204);
    expect(response.headers.get('tus-version')).toBe('1.0.0');
    expect(response.headers.get('tus-extension')).toBe('creation,creation-with-upload,termination,expiration');
    expect(response.headers.get('tus-max-size')).toBe(String(running.api.config.maxFileSize));
  });

  test('when a small image is sent with creation-with-upload, then it is stored and named by X-Image-Id', async () => {
    const bytes = await makeImage('png');

    const { imageId, imageUrl, uploadUrl } = await tusUpload(baseUrl(), bytes, { uploadDataDuringCreation: true });

    expect(imageUrl).toBe(`/image/${imageId ?? ''}`);
    const stored = await download(running.api.app, imageUrl ?? '');
    expect(stored.status).toBe(200);
    expect(sha256(stored.bytes)).toBe(sha256(bytes));
    const head = await fetch(uploadUrl, { method: 'HEAD', headers: TUS_HEADERS });
    expect(head.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(head.headers.get('x-image-id')).toBe(imageId);
    expect(head.headers.get('x-image-url')).toBe(imageUrl);
  });

  test('when a 30 MiB image is sent in 1 MiB PATCHes, then the stored image is byte-exact', async () => {
    const bytes = await makeLargePng(30 * MIB);

    const { imageUrl } = await tusUpload(baseUrl(), bytes, { chunkSize: MIB });

    const stored = await download(running.api.app, imageUrl ?? '');
    expect(stored.bytes.length).toBe(bytes.length);
    expect(sha256(stored.bytes)).toBe(sha256(bytes));
  });

  test('when a PATCH is cut off mid-chunk, then HEAD tells what was stored and the upload resumes from there byte-exact', async () => {
    const bytes = await makeLargePng(2 * MIB);
    const path = await createUpload(bytes.length);
    const sent = 700 * 1024 + 123;

    await patchCutOff({ port: running.server.port, path, offset: 0, announced: bytes.length }, bytes.subarray(0, sent));
    await eventually(() => recordedOffset(running.api.db, path), (recorded) => recorded === sent);
    const offset = await offsetOf(path);
    const { imageUrl } = await tusUpload(baseUrl(), bytes, { uploadUrl: `${baseUrl()}${path}`, chunkSize: 300 * 1024 });

    expect(offset).toBe(sent);
    const stored = await download(running.api.app, imageUrl ?? '');
    expect(sha256(stored.bytes)).toBe(sha256(bytes));
  });

  test('when the bytes are not an image, then the last PATCH is refused as multipart refuses them and nothing stays', async () => {
    const bytes = Buffer.alloc(700 * 1024, 'not an image ');
    const before = await running.api.stored();
    const statesBefore = await uploadStates();

    const error = await tusUpload(baseUrl(), bytes, { chunkSize: 256 * 1024, metadata: { filename: 'notes.txt' } }).catch(
      (caught: unknown) => caught,
    );

    const { status, body } = answerOf(error);
    const multipart = await upload(running.api.app, [{ bytes, filename: 'notes.txt' }]);
    expect(status).toBe(415);
    const problem = JSON.parse(body ?? '{}') as Record<string, unknown>;
    const multipartProblem = multipart.body as Record<string, unknown>;
    expect({ ...problem, instance: undefined }).toEqual({ ...multipartProblem, instance: undefined });
    expect(await running.api.stored()).toEqual(before);
    expect(await uploadStates()).toBe(statesBefore);
  });

  test('when Upload-Length is over MAX_FILE_SIZE, then the creation is refused with 413 before anything is stored', async () => {
    const before = await running.api.stored();

    const response = await fetch(`${baseUrl()}/image/uploads`, {
      method: 'POST',
      headers: { ...TUS_HEADERS, 'Upload-Length': String(running.api.config.maxFileSize + 1) },
    });

    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      code: 'file-too-large',
      detail: `Each file may be at most ${running.api.config.maxFileSize} bytes.`,
    });
    expect(await running.api.stored()).toEqual(before);
  });

  test('when a PATCH, or a creation with its bytes, sends more than Upload-Length, then 413 upload-length-exceeded speaks of the declared length and the upload goes on', async () => {
    const bytes = await makeImage('png');
    const path = await createUpload(bytes.length);

    const pastTheEnd = await patch(path, 0, Buffer.concat([bytes, Buffer.alloc(10)]));
    const creation = await fetch(`${baseUrl()}/image/uploads`, {
      method: 'POST',
      headers: { ...TUS_HEADERS, 'Upload-Length': '10', 'Content-Type': 'application/offset+octet-stream' },
      body: bytes,
    });

    for (const response of [pastTheEnd, creation]) {
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { code: string; detail: string };
      expect(problem.code).toBe('upload-length-exceeded');
      expect(problem.detail).toContain("the upload's declared length (Upload-Length)");
      expect(problem.detail).not.toContain(String(running.api.config.maxFileSize));
    }
    expect(await offsetOf(path)).toBe(0);
    const finished = await patch(path, 0, bytes);
    expect(finished.status).toBe(204);
    expect((await download(running.api.app, finished.headers.get('x-image-url') ?? '')).bytes.equals(bytes)).toBe(true);
  });

  test('when Upload-Length is 0, then the creation is refused as an empty multipart file is, and nothing is kept', async () => {
    const statesBefore = await uploadStates();

    const response = await fetch(`${baseUrl()}/image/uploads`, {
      method: 'POST',
      headers: { ...TUS_HEADERS, 'Upload-Length': '0', 'Upload-Metadata': uploadMetadata({ filename: 'empty.png' }) },
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ code: 'unsupported-image-type' });
    expect(await uploadStates()).toBe(statesBefore);
  });

  test('when an unfinished upload is terminated, then its state and chunks are gone at once', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createUpload(bytes.length);
    expect((await patch(path, 0, bytes.subarray(0, 600 * 1024))).status).toBe(204);
    const chunksBefore = await chunksOf(path);
    const statesBefore = await uploadStates();

    const response = await fetch(`${baseUrl()}${path}`, { method: 'DELETE', headers: TUS_HEADERS });

    expect(response.status).toBe(204);
    expect(chunksBefore).toBe(3);
    expect(await chunksOf(path)).toBe(0);
    expect(await uploadStates()).toBe(statesBefore - 1);
    expect((await fetch(`${baseUrl()}${path}`, { method: 'HEAD', headers: TUS_HEADERS })).status).toBe(404);
  });

  test('when PATCHes follow one another without a pause, then each is answered with all its bytes stored: none is stopped by the next', async () => {
    const bytes = await makeLargePng(HALF);
    const path = await createUpload(bytes.length);
    const answers: { status: number; offset: string | null; connection: string | null }[] = [];
    const step = 16 * KIB;

    for (let offset = 0; offset < bytes.length; offset += step) {
      const answer = await patch(path, offset, bytes.subarray(offset, offset + step));
      answers.push({ status: answer.status, offset: answer.headers.get('upload-offset'), connection: answer.headers.get('connection') });
    }

    expect(answers).toEqual(
      answers.map((_, index) => ({ status: 204, offset: String(Math.min((index + 1) * step, bytes.length)), connection: 'keep-alive' })),
    );
  });

  test('when a second PATCH comes while one is writing, then the first is stopped with what it sent kept, and the second, at a stale offset, is answered 409', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createUpload(bytes.length);
    // One whole chunk: once it is stored, every byte sent so far is.
    const first = patchHeld(baseUrl(), path, 0, bytes.subarray(0, HALF), CHUNK);
    await eventually(() => chunksOf(path), (chunks) => chunks === 1);

    const second = await patch(path, 0, bytes.subarray(0, HALF));

    const stopped = await first.answer;
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ code: 'upload-offset-mismatch' });
    expect(second.headers.get('connection')).toBe('close');
    expect(stopped.status).toBe(204);
    expect(stopped.headers.get('connection')).toBe('close');
    expect(stopped.headers.get('upload-offset')).toBe(String(CHUNK));
    expect(await offsetOf(path)).toBe(CHUNK);
    expect(await locksOf(path)).toBe(0);
    const { imageUrl } = await tusUpload(baseUrl(), bytes, { uploadUrl: `${baseUrl()}${path}` });
    expect(sha256((await download(running.api.app, imageUrl ?? '')).bytes)).toBe(sha256(bytes));
  });

  test('when a client asks HEAD while its previous PATCH still holds the upload, then that PATCH is stopped and HEAD tells what it stored', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createUpload(bytes.length);
    const halfOpen = patchHeld(baseUrl(), path, 0, bytes, 2 * CHUNK);
    await eventually(() => chunksOf(path), (chunks) => chunks === 2);

    const offset = await offsetOf(path);

    const stopped = await halfOpen.answer;
    expect(stopped.status).toBe(204);
    expect(stopped.headers.get('upload-offset')).toBe(String(2 * CHUNK));
    expect(offset).toBe(2 * CHUNK);
    const resumed = await patch(path, offset, bytes.subarray(offset));
    expect(resumed.status).toBe(204);
    expect(sha256((await download(running.api.app, resumed.headers.get('x-image-url') ?? '')).bytes)).toBe(sha256(bytes));
  });

  test('when an upload is terminated while a PATCH is still sending to it, then that PATCH is stopped and the upload is gone', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createUpload(bytes.length);
    const statesBefore = await uploadStates();
    const sending = patchHeld(baseUrl(), path, 0, bytes, 2 * CHUNK);
    await eventually(() => chunksOf(path), (chunks) => chunks === 2);

    const response = await fetch(`${baseUrl()}${path}`, { method: 'DELETE', headers: TUS_HEADERS });

    const stopped = await sending.answer;
    expect(response.status).toBe(204);
    expect(stopped.status).toBe(204);
    expect(stopped.headers.get('connection')).toBe('close');
    expect(await chunksOf(path)).toBe(0);
    expect(await uploadStates()).toBe(statesBefore - 1);
    expect(await locksOf(path)).toBe(0);
    expect((await fetch(`${baseUrl()}${path}`, { method: 'HEAD', headers: TUS_HEADERS })).status).toBe(404);
  });
});
