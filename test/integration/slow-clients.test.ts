import { makeImage, makeLargePng } from '../helpers/images';
import { openRawConnection, uploadHead, type RawAnswer } from '../helpers/raw-http';
import { useListeningTestApp } from '../helpers/server';
import { eventually } from '../helpers/wait';

const UPLOAD_IDLE_TIMEOUT_SECONDS = 2;
const HEADERS_TIMEOUT_SECONDS = 1;

const running = useListeningTestApp({
  config: { uploadIdleTimeoutSeconds: UPLOAD_IDLE_TIMEOUT_SECONDS, headersTimeoutSeconds: HEADERS_TIMEOUT_SECONDS },
});

function expectRawProblem(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.headers.connection).toBe('close');
  expect(JSON.parse(answer.body)).toMatchObject({ type: `urn:image-api:problem:${code}`, status, code });
}

/** Another client, served while the stalled one waits: a whole upload, then the download of it. */
async function uploadAndDownload(bytes: Buffer): Promise<{ id: string; downloaded: Buffer }> {
  const baseUrl = `http://127.0.0.1:${running.server.port}`;
  const form = new FormData();
  form.append('images', new Blob([bytes], { type: 'image/png' }), 'other.png');
  const uploaded = await fetch(`${baseUrl}/image/upload`, { method: 'POST', body: form });
  expect(uploaded.status).toBe(201);
  const { images } = (await uploaded.json()) as { images: { id: string }[] };
  const id = images[0]?.id ?? '';
  const downloaded = await fetch(`${baseUrl}/image/${id}`);
  expect(downloaded.status).toBe(200);
  return { id, downloaded: Buffer.from(await downloaded.arrayBuffer()) };
}

test('when a client stops sending in the middle of an upload, then it gets a 408 after the idle timeout, nothing of its file is stored, and others are served meanwhile', async () => {
  const before = await running.api.stored();
  const stalled = openRawConnection(running.server.port);
  stalled.write(uploadHead({ boundary: 'Stalled', announcedBytes: 40 * 1024 * 1024, filename: 'stalled.png' }));
  stalled.write(await makeLargePng(2 * 1024 * 1024));
  const during = await eventually(running.api.stored, (stored) => stored.chunks >= before.chunks + 4);
  expect(during.chunks).toBeGreaterThanOrEqual(before.chunks + 4);

  const other = await makeImage('png');
  const [answer, served] = await Promise.all([stalled.answer, uploadAndDownload(other)]);

  expectRawProblem(answer, 408, 'request-timeout');
  expect(answer.closedAfterMs).toBeGreaterThanOrEqual(UPLOAD_IDLE_TIMEOUT_SECONDS * 1000);
  expect(answer.closedAfterMs).toBeLessThan(30_000);
  expect(served.downloaded.equals(other)).toBe(true);
  expect(await running.api.stored()).toEqual({ files: before.files + 1, chunks: before.chunks + 1 });
  const fileIds = await running.api.db.collection('images.chunks').distinct('files_id');
  expect(fileIds.map(String)).toContain(served.id);
  expect(fileIds).toHaveLength(before.files + 1);
});

test('when a client never finishes its headers, then it gets a 408 after the headers timeout and the connection is closed', async () => {
  const before = await running.api.stored();
  const stalled = openRawConnection(running.server.port);
  stalled.write('POST /image/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-da');

  const answer = await stalled.answer;

  expectRawProblem(answer, 408, 'request-timeout');
  expect(answer.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_SECONDS * 1000);
  expect(answer.closedAfterMs).toBeLessThan(20_000);
  expect(await running.api.stored()).toEqual(before);
});

test('when a request is not HTTP, then it gets a 400 problem and the connection is closed', async () => {
  const client = openRawConnection(running.server.port);
  client.write('HELLO THERE\r\n\r\n');

  expectRawProblem(await client.answer, 400, 'malformed-request');
});

test('when the request headers are too large, then it gets a 431 problem and the connection is closed', async () => {
  const client = openRawConnection(running.server.port);
  client.write(`GET /image/0123456789abcdef01234567 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`);

  expectRawProblem(await client.answer, 431, 'headers-too-large');
});
