import net from 'node:net';

export interface RawAnswer {
  /** Everything the server sent before it closed the connection. */
  readonly text: string;
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from the connection's opening to its close. */
  readonly closedAfterMs: number;
}

export interface RawConnection {
  write(data: string | Uint8Array): void;
  /** Resolves once the server has closed the connection. */
  readonly answer: Promise<RawAnswer>;
}

function parseAnswer(text: string, closedAfterMs: number): RawAnswer {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return { text, status: status === undefined ? undefined : Number(status), headers, body, closedAfterMs };
}

/** A client that sends exactly the bytes it is given, when it is told to: slow, stalled or broken. */
export function openRawConnection(port: number): RawConnection {
  const openedAt = Date.now();
  const socket = net.connect({ port, host: '127.0.0.1' });
  const received: Buffer[] = [];
  socket.on('data', (part: Buffer) => received.push(part));
  const answer = new Promise<RawAnswer>((resolve) => {
    socket.once('close', () => resolve(parseAnswer(Buffer.concat(received).toString('utf8'), Date.now() - openedAt)));
  });
  // A reset after the answer is what closing on a client that is still sending looks like.
  socket.on('error', () => undefined);
  return { write: (data) => socket.write(data), answer };
}

export interface MultipartStart {
  readonly boundary: string;
  /** What the request's Content-Length announces: more than will ever be sent. */
  readonly announcedBytes: number;
  readonly filename: string;
}

/** The request line, headers and first part header of an upload, up to where the file's bytes begin. */
export function uploadHead({ boundary, announcedBytes, filename }: MultipartStart): string {
  return (
    'POST /image/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${announcedBytes}\r\n\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\n`
  );
}
