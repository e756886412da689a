import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bodyEndingWithTheClient } from '../../src/uploads/resumable/request-body';

/** Reads the body slowly, so that the request is paused behind it when the client leaves. */
async function bytesReadSlowly(body: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const part of body) {
    total += part.length;
    await sleep(20);
  }
  return total;
}

describe('the body of a request whose client goes away', () => {
  let server: Server;
  let received: Promise<number>;

  beforeEach(async () => {
    received = new Promise((resolve) => {
      server = createServer((req) => resolve(bytesReadSlowly(bodyEndingWithTheClient(req))));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    server.close();
    await once(server, 'close');
  });

  test('when the client sends part of the body and closes while reading is held back, then the body ends with every byte it sent', async () => {
    const sent = 300_000;
    const socket = createConnection({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const head = `PATCH /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${sent * 2}\r\n\r\n`;
    await new Promise<void>((resolve) => socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(sent, 7)]), () => resolve()));
    socket.destroy();

    expect(await received).toBe(sent);
  });
});
