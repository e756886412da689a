import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createConnection, type AddressInfo, type Socket } from 'node:net';
import { bodyEndingWithTheClient } from '../../src/uploads/resumable/request-body';

/** A request as the server got it: its body as the store reads it, and the moments that matter. */
interface ArrivedRequest {
  readonly body: ReadableStream<Uint8Array>;
  /** The first bytes of the body reached the body, which nobody reads yet: the request is paused. */
  readonly firstBytes: Promise<unknown>;
  /** The server saw the client go. */
  readonly closed: Promise<unknown>;
}

function arrivedRequest(req: IncomingMessage): ArrivedRequest {
  return {
    body: bodyEndingWithTheClient(req),
    firstBytes: once(req, 'data'),
    closed: new Promise((resolve) => req.once('close', resolve)),
  };
}

async function bytesIn(body: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const part of body) total += part.length;
  return total;
}

function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => socket.write(bytes, () => resolve()));
}

describe('the body of a request whose client goes away', () => {
  let server: Server;
  let arrived: Promise<ArrivedRequest>;

  beforeEach(async () => {
    arrived = new Promise((resolve) => {
      server = createServer((req) => resolve(arrivedRequest(req)));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    server.close();
    await once(server, 'close');
  });

  test('when the client sends part of the body and closes while reading is held back, then the body ends with every byte it sent', async () => {
    // Less than the request buffers while paused, so that the server reads on to the client's leaving.
    const [first, rest] = [Buffer.alloc(1024, 7), Buffer.alloc(4096, 8)];
    const socket = createConnection({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const head = `PATCH /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${2 * (first.length + rest.length)}\r\n\r\n`;

    await write(socket, Buffer.concat([Buffer.from(head), first]));
    const request = await arrived;
    await request.firstBytes;
    await write(socket, rest);
    socket.destroy();
    await request.closed;

    expect(await bytesIn(request.body)).toBe(first.length + rest.length);
  });
});
