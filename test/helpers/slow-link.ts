import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

/** The pace of a link's uploads, which a test may change while they run. */
interface Pace {
  bytesPerSecond: number;
}

/** Passes bytes on no faster than the pace; TCP's flow control slows the sender to match. */
class Throttle extends Transform {
  constructor(private readonly pace: Pace) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.push(chunk);
    setTimeout(done, (chunk.length / this.pace.bytesPerSecond) * 1000);
  }
}

export interface SlowLink {
  readonly port: number;
  /** From now on, uploads crawl at this pace instead; `Infinity` lets them through at full speed. */
  setBytesPerSecond(bytesPerSecond: number): void;
  /** Drops every open connection at once, as a network that goes away does. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay to `targetPort` whose uploads crawl at `bytesPerSecond`, so that a browser's
 * upload (or a server's write to its database) is still under way when a test acts on it;
 * answers come back at full speed.
 */
export function openSlowLink(targetPort: number, bytesPerSecond: number): Promise<SlowLink> {
  const open = new Set<Socket>();
  const pace: Pace = { bytesPerSecond };
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
    client.pipe(new Throttle(pace)).pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => {
    relay.listen(0, '127.0.0.1', () => {
      resolve({
        port: (relay.address() as AddressInfo).port,
        setBytesPerSecond: (rate) => {
          pace.bytesPerSecond = rate;
        },
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
