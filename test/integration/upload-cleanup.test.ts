import http from 'node:http';
import request from 'supertest';
import { makeLargePng } from '../helpers/images';
import { upload } from '../helpers/http';
import { expectProblem } from '../helpers/problem';
import { useListeningTestApp } from '../helpers/server';
import { eventually } from '../helpers/wait';

const running = useListeningTestApp();

test('when the database refuses the file document, then the chunks already written are removed', async () => {
  // An index an operator might add: the second file of the same name cannot be recorded.
  await running.api.db.collection('images.files').createIndexes([{ key: { filename: 1 }, unique: true, name: 'unique_filename' }]);
  try {
    await upload(running.api.app, [{ bytes: await makeLargePng(10_000), filename: 'taken.png' }]);
    const before = await running.api.stored();

    const response = await upload(running.api.app, [{ bytes: await makeLargePng(600 * 1024), filename: 'taken.png' }]);

    expectProblem(response, 500, 'internal-error');
    expect(await running.api.stored()).toEqual(before);
  } finally {
    await running.api.db.collection('images.files').dropIndex('unique_filename');
  }
});

test('when the client leaves right after sending the whole body, then the images it never heard of are removed', async () => {
  const before = await running.api.stored();
  const png = await makeLargePng(3 * 1024 * 1024);
  const boundary = 'LeaveEarly';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="gone.png"\r\n\r\n`),
    png,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const client = http.request({
    port: running.server.port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/image/upload',
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(body.length) },
  });
  client.on('error', () => undefined);

  client.end(body, () => client.destroy());

  const after = await eventually(running.api.stored, (stored) => stored.files === before.files && stored.chunks === before.chunks);
  expect(after).toEqual(before);
  expect((await request(running.api.app).get('/image/0123456789abcdef01234567')).status).toBe(404);
});
