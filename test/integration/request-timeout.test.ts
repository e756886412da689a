import { makeLargePng } from '../helpers/images';
import { openRawConnection, uploadHead } from '../helpers/raw-http';
import { useListeningTestApp } from '../helpers/server';
import { eventually } from '../helpers/wait';

const REQUEST_TIMEOUT_SECONDS = 4;

const running = useListeningTestApp({
  config: { requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS, headersTimeoutSeconds: 1, uploadIdleTimeoutSeconds: 2 },
});

test('when an upload trickles in for longer than the request timeout, then it gets a 408 and none of its chunks remain', async () => {
  const before = await running.api.stored();
  const slow = openRawConnection(running.server.port);
  slow.write(uploadHead({ boundary: 'Trickle', announcedBytes: 40 * 1024 * 1024, filename: 'trickle.png' }));
  slow.write(await makeLargePng(2 * 1024 * 1024));
  const during = await eventually(running.api.stored, (stored) => stored.chunks >= before.chunks + 4);
  expect(during.chunks).toBeGreaterThanOrEqual(before.chunks + 4);
  // Often enough never to be idle, too slowly ever to finish.
  const trickle = setInterval(() => slow.write(Buffer.alloc(1024, 7)), 250);

  const answer = await slow.answer.finally(() => clearInterval(trickle));

  expect(answer.status).toBe(408);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'request-timeout', status: 408 });
  expect(answer.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_SECONDS * 1000);
  expect(answer.closedAfterMs).toBeLessThan(30_000);
  const after = await eventually(running.api.stored, (stored) => stored.chunks === before.chunks);
  expect(after).toEqual(before);
});
