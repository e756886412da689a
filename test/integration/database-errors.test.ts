import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { isDatabaseUnavailable } from '../../src/database/database-errors';

/** A server on a free local port, with its address; closed by `close`. */
async function listening<T extends net.Server>(server: T): Promise<{ server: T; port: number; close: () => Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    server,
    port,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

test('when a write goes to a connection whose other end has closed it, then the error counts as the database being unavailable', async () => {
  const peer = await listening(net.createServer((socket) => socket.end()));
  const socket = net.connect(peer.port, '127.0.0.1');
  await once(socket, 'end');

  socket.write('a command after the server went away');
  const [error] = (await once(socket, 'error')) as [unknown];

  socket.destroy();
  await peer.close();
  expect(error).toMatchObject({ code: 'EPIPE' });
  expect(isDatabaseUnavailable(error)).toBe(true);
});

test('when a client aborts its request in the middle of the body, then that error does not count as the database being unavailable', async () => {
  let report: (error: unknown) => void = () => undefined;
  const requestError = new Promise<unknown>((resolve) => (report = resolve));
  const peer = await listening(
    http.createServer((req) => {
      req.once('error', report);
      req.once('data', () => client.destroy());
    }),
  );
  const client = net.connect(peer.port, '127.0.0.1');
  client.write('POST /image/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nhalf a body');

  const error = await requestError;

  await peer.close();
  expect(error).toMatchObject({ code: 'ECONNRESET' });
  expect(isDatabaseUnavailable(error)).toBe(false);
});
