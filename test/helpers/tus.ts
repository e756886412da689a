import { createConnection } from 'node:net';
import { Upload, type DetailedError, type HttpResponse } from 'tus-js-client';

export interface TusOptions {
  readonly chunkSize?: number;
  readonly metadata?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** Resume the upload at this URL instead of creating one. */
  readonly uploadUrl?: string;
  readonly uploadDataDuringCreation?: boolean;
}

export interface TusSuccess {
  /** The upload's own URL. */
  readonly uploadUrl: string;
  readonly imageId: string | undefined;
  readonly imageUrl: string | undefined;
}

/** Uploads `bytes` with tus-js-client, as a Node application would; rejects with its error. */
export function tusUpload(baseUrl: string, bytes: Buffer, options: TusOptions = {}): Promise<TusSuccess> {
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(bytes, {
      endpoint: `${baseUrl}/image/uploads`,
      chunkSize: options.chunkSize ?? Number.POSITIVE_INFINITY,
      metadata: options.metadata ?? { filename: 'photo.png', filetype: 'image/png' },
      headers: options.headers ?? {},
      uploadUrl: options.uploadUrl ?? null,
      uploadDataDuringCreation: options.uploadDataDuringCreation ?? false,
      retryDelays: null,
      storeFingerprintForResuming: false,
      onError: (error) => reject(error),
      onSuccess: ({ lastResponse }: { lastResponse: HttpResponse }) => {
        resolve({
          uploadUrl: upload.url ?? '',
          imageId: lastResponse.getHeader('x-image-id'),
          imageUrl: lastResponse.getHeader('x-image-url'),
        });
      },
    });
    upload.start();
  });
}

/** The status and body of the answer that made tus-js-client give up. */
export function answerOf(error: unknown): { status: number | undefined; body: string | undefined } {
  const response = (error as Partial<DetailedError>).originalResponse;
  return { status: response?.getStatus(), body: response?.getBody() };
}

export const TUS_HEADERS = { 'Tus-Resumable': '1.0.0' } as const;

/** Base64 of each value, as Upload-Metadata carries them. */
export function uploadMetadata(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

/** Creates an upload by hand, as a raw tus client does; answers its path, `/image/uploads/<id>`. */
export async function createRawUpload(baseUrl: string, length: number, filename: string): Promise<string> {
  const response = await fetch(`${baseUrl}/image/uploads`, {
    method: 'POST',
    headers: { ...TUS_HEADERS, 'Upload-Length': String(length), 'Upload-Metadata': uploadMetadata({ filename }) },
  });
  expect(response.status).toBe(201);
  return response.headers.get('location') ?? '';
}

/** One PATCH of `bytes` at `offset`, sent whole. */
export function patchRaw(baseUrl: string, path: string, offset: number, bytes: Buffer): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: 'PATCH',
    headers: { ...TUS_HEADERS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    body: bytes,
  });
}

export interface PartialPatch {
  readonly port: number;
  /** The upload's path, `/image/uploads/<id>`. */
  readonly path: string;
  readonly offset: number;
  /** What Content-Length announces. */
  readonly announced: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A PATCH whose connection drops after `sent`: the request head announces `announced` bytes,
 * `sent` go out, and the socket is destroyed once they are written, as a phone losing its
 * network would leave it.
 */
export async function patchCutOff(patch: PartialPatch, sent: Buffer): Promise<void> {
  const extra = Object.entries(patch.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const head =
    `PATCH ${patch.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n${extra}` +
    `Content-Type: application/offset+octet-stream\r\nUpload-Offset: ${patch.offset}\r\nContent-Length: ${patch.announced}\r\n\r\n`;
  const socket = createConnection({ port: patch.port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  await new Promise<void>((resolve) => socket.write(Buffer.concat([Buffer.from(head), sent]), () => resolve()));
  socket.destroy();
}

export interface HeldPatch {
  /** The server's answer; a PATCH it stopped is answered while the rest is still held back. */
  readonly answer: Promise<Response>;
  /** Sends what was held back, if the server still reads. */
  sendRest(): void;
}

/**
 * A PATCH of `body` at `offset` that sends its first `sent` bytes, then holds the rest back
 * until told: a client whose link went quiet, or whose connection is half-open.
 */
export function patchHeld(baseUrl: string, path: string, offset: number, body: Buffer, sent: number): HeldPatch {
  let sendRest: () => void = () => undefined;
  const rest = new Promise<void>((resolve) => (sendRest = resolve));
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(body.subarray(0, sent));
      await rest;
      try {
        controller.enqueue(body.subarray(sent));
        controller.close();
      } catch {
        // The server answered, and the request's stream was closed: there is nobody to send to.
      }
    },
  });
  const answer = fetch(`${baseUrl}${path}`, {
    method: 'PATCH',
    headers: {
      ...TUS_HEADERS,
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(body.length),
    },
    body: stream,
    duplex: 'half',
  });
  return { answer, sendRest };
}
