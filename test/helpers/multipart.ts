import type { RequestListener } from 'node:http';
import request from 'supertest';

export interface MultipartPart {
  readonly name: string;
  /** A file part when set: raw bytes, so that tests can send names that are not valid UTF-8. */
  readonly filename?: Buffer | string;
  readonly contentType?: string;
  /** More header lines of the part, as sent. */
  readonly extraHeaders?: readonly string[];
  readonly body: Buffer;
}

function partHead(part: MultipartPart): Buffer {
  const filename = part.filename === undefined ? [] : [Buffer.from('; filename="'), Buffer.from(part.filename), Buffer.from('"')];
  const lines = [
    ...(part.contentType === undefined ? [] : [`Content-Type: ${part.contentType}`]),
    ...(part.extraHeaders ?? []),
  ];
  return Buffer.concat([
    Buffer.from(`Content-Disposition: form-data; name="${part.name}"`),
    ...filename,
    Buffer.from(['', ...lines, '', ''].join('\r\n')),
  ]);
}

/** A multipart/form-data body written by hand, so that tests can send what no well-behaved client would. */
export function multipartBody(boundary: string, parts: readonly MultipartPart[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap((part) => [Buffer.from(`--${boundary}\r\n`), partHead(part), part.body, Buffer.from('\r\n')]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
}

/** POSTs raw bytes as a multipart upload whose header names `boundary`. */
export function postMultipart(app: RequestListener, boundary: string, body: Buffer): request.Test {
  return request(app).post('/image/upload').set('Content-Type', `multipart/form-data; boundary=${boundary}`).send(body);
}
