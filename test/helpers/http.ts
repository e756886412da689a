import type { IncomingHttpHeaders, RequestListener } from 'node:http';
import request, { type Response } from 'supertest';

export interface Download {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: Buffer;
}

/** GET with the body kept as raw bytes, whatever its type. */
export async function download(
  app: RequestListener,
  url: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<Download> {
  const response = await request(app)
    .get(url)
    .set(headers)
    .buffer(true)
    .parse((res, callback) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        callback(null, Buffer.concat(parts));
      });
    });
  return { status: response.status, headers: response.headers, bytes: response.body as Buffer };
}

export interface UploadFile {
  readonly bytes: Buffer;
  readonly filename: string;
  readonly contentType?: string;
  readonly field?: string;
}

export function upload(app: RequestListener, files: readonly UploadFile[]): request.Test {
  return files.reduce(
    (req, file) =>
      req.attach(file.field ?? 'images', file.bytes, {
        filename: file.filename,
        contentType: file.contentType ?? 'application/octet-stream',
      }),
    request(app).post('/image/upload'),
  );
}

export interface UploadedImage {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly url: string;
}

/** The images listed by a 201 answer to an upload. */
export function uploadedImages(response: Response): UploadedImage[] {
  const body = response.body as { images?: UploadedImage[] };
  return body.images ?? [];
}

export function onlyUploadedImage(response: Response): UploadedImage {
  const [image, ...others] = uploadedImages(response);
  if (!image || others.length > 0) throw new Error(`expected one uploaded image in ${JSON.stringify(response.body)}`);
  return image;
}
