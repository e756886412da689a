import http from 'node:http';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import { makeImage, makeLargePng } from '../helpers/images';
import { captureLogs } from '../helpers/logs';
import { onlyUploadedImage, upload } from '../helpers/http';
import { expectProblem } from '../helpers/problem';
import { useListeningTestApp } from '../helpers/server';
import { startTestApp, type TestApp } from '../helpers/test-app';

// Without the cache every read streams from GridFS, which is the path under test here.
const running = useListeningTestApp({ config: { cacheMaxBytes: 0 } });

async function storeThreeChunkImage(): Promise<{ id: string; size: number }> {
  const image = onlyUploadedImage(await upload(running.api.app, [{ bytes: await makeLargePng(600 * 1024), filename: 'three.png' }]));
  const chunks = await running.api.db.collection('images.chunks').countDocuments({ files_id: new ObjectId(image.id) });
  expect(chunks).toBe(3);
  return image;
}

async function deleteChunk(id: string, n: number): Promise<void> {
  await running.api.db.collection('images.chunks').deleteOne({ files_id: new ObjectId(id), n });
}

/** What a browser sees: the status, the bytes that came, and whether the connection was cut. */
function fetchRaw(port: number, path: string): Promise<{ status: number; length: number; received: number; cut: boolean }> {
  return new Promise((resolve) => {
    http.get({ port, host: '127.0.0.1', path }, (res) => {
      let received = 0;
      res.on('data', (part: Buffer) => (received += part.length));
      const finish = (cut: boolean) => {
        resolve({ status: res.statusCode ?? 0, length: Number(res.headers['content-length']), received, cut });
      };
      res.on('end', () => finish(false));
      res.on('aborted', () => finish(true));
      res.on('error', () => finish(true));
    });
  });
}

test('when a middle chunk of a stored file is missing, then the download is cut short instead of completed', async () => {
  const image = await storeThreeChunkImage();
  await deleteChunk(image.id, 1);

  const response = await fetchRaw(running.server.port, `/image/${image.id}`);

  expect(response.status).toBe(200);
  expect(response.cut).toBe(true);
  expect(response.received).toBeLessThan(image.size);
});

test('when the first chunk of a stored file is missing, then 500 internal-error without details', async () => {
  const image = await storeThreeChunkImage();
  await deleteChunk(image.id, 0);

  const response = await request(running.api.app).get(`/image/${image.id}`);

  expectProblem(response, 500, 'internal-error');
  expect(response.body).toMatchObject({ detail: 'Something went wrong on our side.' });
});

describe('an original the decoder cannot read', () => {
  const captured = captureLogs();
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ logger: captured.logger });
  });

  afterAll(async () => {
    await api.close();
  });

  test('when a variant is asked of a JPEG cut off halfway, then 422 says so in our words, and the decoder\'s own only reaches the log', async () => {
    const whole = await makeImage('jpeg', 400, 300);
    const { url } = onlyUploadedImage(await upload(api.app, [{ bytes: whole.subarray(0, whole.length / 2), filename: 'half.jpg' }]));

    const response = await request(api.app).get(`${url}?w=64`);

    expectProblem(response, 422, 'image-not-transformable');
    expect((response.body as { detail: string }).detail).toBe(
      'The image data is damaged or incomplete and cannot be decoded; it is served only as uploaded.',
    );
    const logged = captured.lines.find((line) => line.code === 'image-not-transformable');
    expect(JSON.stringify(logged)).toMatch(/VipsJpeg/);
  });
});
