import { ObjectId } from 'mongodb';
import { pino } from 'pino';
import { createOrphanSweeper } from '../../src/maintenance/orphan-sweeper';
import { countChunks } from '../helpers/chunks';
import { runningClock } from '../helpers/clock';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage, makeLargePng } from '../helpers/images';
import { useListeningTestApp, type ListeningTestApp } from '../helpers/server';
import { namedKeys } from '../helpers/test-app';
import { answerOf, TUS_HEADERS, tusUpload } from '../helpers/tus';

const KEY = 'resumable-key-0123456789';

const baseUrlOf = (running: ListeningTestApp) => `http://127.0.0.1:${running.server.port}`;

async function createUpload(running: ListeningTestApp, length: number, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrlOf(running)}/image/uploads`, {
    method: 'POST',
    headers: { ...TUS_HEADERS, 'Upload-Length': String(length), ...headers },
  });
}

function patch(running: ListeningTestApp, path: string, offset: number, bytes: Buffer, headers: Record<string, string> = {}) {
  return fetch(`${baseUrlOf(running)}${path}`, {
    method: 'PATCH',
    headers: { ...TUS_HEADERS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers },
    body: bytes,
  });
}

describe('resumable uploads with API_KEYS and the upload rate limit', () => {
  const running = useListeningTestApp({ config: { apiKeys: namedKeys(KEY), uploadRateLimit: 2 } });
  const withKey = { Authorization: `Bearer ${KEY}` };

  test('when a tus request has no key or a wrong one, then it is refused as multipart is, and with the key the upload goes through', async () => {
    const bytes = await makeImage('png');
    const created = await createUpload(running, bytes.length, withKey);
    const path = created.headers.get('location') ?? '';

    const noKey = await createUpload(running, bytes.length);
    const wrongKey = await patch(running, path, 0, bytes, { Authorization: 'Bearer not-the-key-0123456789' });
    const headWithoutKey = await fetch(`${baseUrlOf(running)}${path}`, { method: 'HEAD', headers: TUS_HEADERS });
    const finished = await patch(running, path, 0, bytes, withKey);

    expect(noKey.status).toBe(401);
    expect(wrongKey.status).toBe(403);
    expect(headWithoutKey.status).toBe(401);
    expect(finished.status).toBe(204);
    expect(finished.headers.get('x-image-id')).toMatch(/^[0-9a-f]{24}$/);
  });

  test('when a client creates more uploads than the limit, then the next creation is 429, while PATCHes are never counted', async () => {
    // The first test created two uploads with this key's address (one refused): the limit counts by key once it is valid.
    const bytes = await makeLargePng(600 * 1024);
    const { imageId } = await tusUpload(baseUrlOf(running), bytes, { chunkSize: 100 * 1024, headers: withKey });
    const refused = await tusUpload(baseUrlOf(running), bytes, { headers: withKey }).catch((error: unknown) => error);

    expect(imageId).toMatch(/^[0-9a-f]{24}$/);
    expect(answerOf(refused).status).toBe(429);
    expect(JSON.parse(answerOf(refused).body ?? '{}')).toMatchObject({ code: 'rate-limited' });
  });
});

describe('resumable uploads with DEDUP', () => {
  const running = useListeningTestApp({ config: { dedup: true } });

  test('when a resumable upload has the bytes of a stored image, then it is answered with that image and keeps no copy', async () => {
    const bytes = await makeLargePng(400 * 1024);
    const multipart = onlyUploadedImage(await upload(running.api.app, [{ bytes, filename: 'first.png' }]));
    const before = await running.api.stored();

    const { imageId, uploadUrl } = await tusUpload(baseUrlOf(running), bytes, { chunkSize: 256 * 1024 });

    expect(imageId).toBe(multipart.id);
    expect(await running.api.stored()).toEqual(before);
    const head = await fetch(uploadUrl, { method: 'HEAD', headers: TUS_HEADERS });
    expect(head.headers.get('x-image-id')).toBe(multipart.id);
  });
});

describe('resumable uploads that expire', () => {
  const clock = runningClock();
  const running = useListeningTestApp({ config: { resumableExpirySeconds: 2 }, clock: clock.now });

  test('when an unfinished upload passes RESUMABLE_EXPIRY, then it answers 410 and the sweep removes its state and chunks, never a live one', async () => {
    const bytes = await makeLargePng(600 * 1024);
    const created = await createUpload(running, bytes.length);
    const path = created.headers.get('location') ?? '';
    const id = new ObjectId(path.split('/').at(-1));
    const patched = await patch(running, path, 0, bytes.subarray(0, 300 * 1024));
    // Every chunk is older than a grace of 0 s; only the upload's state says it is alive.
    const sweeper = createOrphanSweeper({ repository: running.api.repository, logger: pino({ level: 'silent' }), graceSeconds: 0, intervalSeconds: 300, clock: clock.now });
    const whileLive = await sweeper.sweep();
    const chunksWhileLive = await countChunks(running.api.db, 'images', id);
    clock.advance(2500);

    const head = await fetch(`${baseUrlOf(running)}${path}`, { method: 'HEAD', headers: TUS_HEADERS });
    const afterExpiry = await sweeper.sweep();

    expect(created.headers.get('upload-expires')).toBe(new Date(Date.parse(created.headers.get('upload-expires') ?? '')).toUTCString());
    expect(patched.headers.get('upload-expires')).toBeTruthy();
    expect(whileLive.map((orphan) => orphan.fileId)).not.toContain(id.toHexString());
    expect(chunksWhileLive).toBe(2);
    expect(head.status).toBe(410);
    expect(afterExpiry).toContainEqual({ fileId: id.toHexString(), chunks: 2 });
    expect(await countChunks(running.api.db, 'images', id)).toBe(0);
    expect(await running.api.db.collection('images.uploads').countDocuments({ _id: id })).toBe(0);
  });

  test('when uploads finish, are refused or are terminated, then image_uploads_total counts each once', async () => {
    const bytes = await makeImage('png');
    await tusUpload(baseUrlOf(running), bytes, { uploadDataDuringCreation: true });
    await tusUpload(baseUrlOf(running), Buffer.from('plain text, not an image')).catch(() => undefined);
    const created = await createUpload(running, 1000);
    await fetch(`${baseUrlOf(running)}${created.headers.get('location') ?? ''}`, { method: 'DELETE', headers: TUS_HEADERS });

    const metrics = await running.api.metrics.render();

    expect(metrics).toContain('image_uploads_total{outcome="stored",reason=""} 1');
    expect(metrics).toContain('image_uploads_total{outcome="rejected",reason="unsupported-image-type"} 1');
    expect(metrics).toContain('image_uploads_total{outcome="aborted",reason=""} 1');
  });
});
