import http from 'node:http';
import { makeImage } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { eventually } from '../helpers/wait';

const running = useListeningTestApp();

/** Starts a multipart upload that announces 40 MiB, sends `sent` bytes of it, and leaves the request open. */
async function startLargeUpload(port: number, sent: number): Promise<http.ClientRequest> {
  const head = await makeImage('png');
  const boundary = 'AbortBoundary';
  const request = http.request({
    port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/image/upload',
    headers: {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': String(40 * 1024 * 1024),
    },
  });
  request.on('error', () => undefined);
  request.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="large.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  request.write(head);
  request.write(Buffer.alloc(sent - head.length, 7));
  return request;
}

test('when the client disconnects in the middle of a large upload, then none of its chunks remain', async () => {
  const before = await running.api.stored();
  const request = await startLargeUpload(running.server.port, 4 * 1024 * 1024);

  const during = await eventually(running.api.stored, (stored) => stored.chunks >= before.chunks + 8);
  expect(during.chunks).toBeGreaterThanOrEqual(before.chunks + 8);

  request.destroy();

  const after = await eventually(running.api.stored, (stored) => stored.chunks === before.chunks);
  expect(after).toEqual(before);
  // No write of the upload is left to land a chunk after its removal.
  await running.api.writes.settled();
  expect(await running.api.stored()).toEqual(before);
  const metrics = await running.api.metrics.registry.getSingleMetricAsString('image_uploads_total');
  expect(metrics).toContain('image_uploads_total{outcome="aborted",reason=""} 1');
});
