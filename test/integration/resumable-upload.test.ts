import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectId } from 'mongodb';
import { countChunks } from '../helpers/chunks';
import { download, upload } from '../helpers/http';
import { makeImage, makeLargePng, sha256 } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { answerOf, createRawUpload, patchCutOff, patchRaw, TUS_HEADERS, tusUpload, uploadMetadata } from '../helpers/tus';
import { eventually } from '../helpers/wait';

const MIB = 1024 * 1024;

describe('resumable uploads with tus', () => {
  const running = useListeningTestApp();
  const baseUrl = () => `http://127.0.0.1:${running.server.port}`;
  const uploadStates = () => running.api.db.collection('images.uploads').countDocuments();

  const createUpload = (length: number) => createRawUpload(baseUrl(), length, 'cut.png');

  const chunksOf = (path: string) => countChunks(running.api.db, 'images', new ObjectId(path.split('/').at(-1)));

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
    const offset = await eventually(() => offsetOf(path), (stored) => stored === sent);
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

  test('when two PATCHes write the same upload at once, then one is refused and the bytes never interleave', async () => {
    const bytes = await makeLargePng(MIB);
    const path = await createUpload(bytes.length);
    const half = 512 * 1024;
    const slowStart = bytes.subarray(0, 1000);
    const slow = patchStalled(path, bytes.subarray(0, half), slowStart);
    await sleep(300);

    const second = await patch(path, 0, bytes.subarray(0, half));

    expect([409, 423]).toContain(second.status);
    expect(second.headers.get('connection')).toBe('close');
    await slow.finish();
    const { imageUrl } = await tusUpload(baseUrl(), bytes, { uploadUrl: `${baseUrl()}${path}` });
    expect(sha256((await download(running.api.app, imageUrl ?? '')).bytes)).toBe(sha256(bytes));
  });

  test('when an upload is terminated while a PATCH is still sending to it, then that PATCH is stopped and the upload is gone', async () => {
    // Ten seconds of sending at this pace: the upload cannot finish before the DELETE, however slow the machine.
    const bytes = await makeLargePng(8 * MIB);
    const path = await createUpload(bytes.length);
    const statesBefore = await uploadStates();
    const sending = patchTrickling(path, bytes);
    expect(await eventually(() => chunksOf(path), (chunks) => chunks > 0)).toBeGreaterThan(0);

    const response = await fetch(`${baseUrl()}${path}`, { method: 'DELETE', headers: TUS_HEADERS });

    expect(response.status).toBe(204);
    expect((await sending).ok).toBe(false);
    expect(await chunksOf(path)).toBe(0);
    expect(await uploadStates()).toBe(statesBefore - 1);
  });

  /** A PATCH that sends its body 16 KiB at a time, 20 ms apart; answers its status, 0 when cut off. */
  async function patchTrickling(path: string, body: Buffer): Promise<{ ok: boolean; status: number }> {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await sleep(20);
        controller.enqueue(body.subarray(sent, sent + 16 * 1024));
        sent += 16 * 1024;
        if (sent >= body.length) controller.close();
      },
    });
    const headers = { ...TUS_HEADERS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(body.length) };
    try {
      const answer = await fetch(`${baseUrl()}${path}`, { method: 'PATCH', headers, body: stream, duplex: 'half' });
      return { ok: answer.ok, status: answer.status };
    } catch {
      return { ok: false, status: 0 };
    }
  }

  /** A PATCH that sends its first bytes, then waits to be told to send the rest. */
  function patchStalled(path: string, body: Buffer, first: Buffer): { finish: () => Promise<void> } {
    let release: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => (release = resolve));
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(first);
        await rest;
        controller.enqueue(body.subarray(first.length));
        controller.close();
      },
    });
    const answered = fetch(`${baseUrl()}${path}`, {
      method: 'PATCH',
      headers: {
        ...TUS_HEADERS,
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(body.length),
      },
      body: stream,
      duplex: 'half',
    });
    return {
      finish: async () => {
        release();
        expect((await answered).status).toBe(204);
      },
    };
  }
});
