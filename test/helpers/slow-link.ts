import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes on no faster than `bytesPerSecond`; TCP's flow control slows the sender to match. */
class Throttle extends Transform {
  constructor(private readonly bytesPerSecond: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.push(chunk);
    setTimeout(done, (chunk.length / this.bytesPerSecond) * 1000);
  }
}

export interface SlowLink {
  readonly port: number;
  /** Drops every open connection at once, as a network that goes away does. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay to `targetPort` whose uploads crawl at `bytesPerSecond`, so that a browser's
 * upload is still under way when a test cuts the network; answers come back at full speed.
 */
export function openSlowLink(targetPort: number, bytesPerSecond: number): Promise<SlowLink> {
  const open = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(new Throttle(bytesPerSecond)).pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => {
    relay.listen(0, '127.0.0.1', () => {
      resolve({
        port: (relay.address() as AddressInfo).port,
        dropConnections: () => {
          for (const socket of open) socket.destroy();
        },
        close: () =>
          new Promise((done) => {
            for (const socket of open) socket.destroy();
            relay.close(() => done());
          }),
      });
    });
  });
}
