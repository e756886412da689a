import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors/app-error';
import { corsReadHeaders, type CorsOrigins } from '../http/cors';
import { representationOf } from './delivery-headers';
import type { ByteRange } from './gridfs-chunk-stream';
import type { ImageRecord } from './image-repository';
import type { ImageReader } from './image-reader';
import { parseImageId } from './image-schemas';
import { planRead } from './read-plan';

/** Answers GET and HEAD of one image; `id` as it appears, decoded, in the path. */
export type ImageReadHandler = (req: IncomingMessage, res: ServerResponse, id: string) => Promise<void>;

export interface ImageReadOptions {
  readonly corsOrigins: CorsOrigins;
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * The reader hands over a stream once its first bytes are there, so that a file that cannot
 * be read at all still gets a proper error answer; after the status line, a failure can only
 * cut the connection. A client that leaves early is not an error.
 */
async function sendStream(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Readable) {
  res.writeHead(status, headers);
  try {
    await pipeline(body, res);
  } catch (error) {
    if (!isPrematureClose(error)) throw error;
  }
}

type Headers = Readonly<Record<string, string>>;

export function createImageReadHandler(reader: ImageReader, options: ImageReadOptions): ImageReadHandler {
  async function sendContent(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: OutgoingHttpHeaders,
    image: ImageRecord,
    range?: ByteRange,
  ): Promise<void> {
    if (req.method === 'HEAD') {
      res.writeHead(status, headers).end();
      return;
    }
    const content = await reader.readContent(image, range);
    if (content.kind === 'bytes') {
      res.writeHead(status, headers).end(content.bytes);
      return;
    }
    await sendStream(res, status, headers, content.stream);
  }

  async function answer(req: IncomingMessage, res: ServerResponse, id: string, cors: Headers): Promise<void> {
    const image = await reader.find(parseImageId(id));
    const { validators, headers, notModifiedHeaders } = representationOf(image);
    const plan = planRead(req.method, req.headers, image.size, validators);
    const content = { ...cors, ...headers, 'Content-Type': image.contentType };

    switch (plan.kind) {
      case 'not-modified':
        res.writeHead(304, { ...cors, ...notModifiedHeaders }).end();
        return;
      case 'unsatisfiable':
        throw new AppError('range-not-satisfiable', `The image has ${image.size} bytes.`, {
          headers: { 'Content-Range': `bytes */${image.size}` },
        });
      case 'full':
        await sendContent(req, res, 200, { ...content, 'Content-Length': image.size }, image);
        return;
      case 'partial': {
        const { start, end } = plan.range;
        const range = { 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${image.size}` };
        await sendContent(req, res, 206, { ...content, ...range }, image, plan.range);
      }
    }
  }

  return async (req, res, id) => {
    const cors = corsReadHeaders(options.corsOrigins, req.headers);
    try {
      await answer(req, res, id, cors);
    } catch (error) {
      // Error answers carry them too, so that a cross-origin page can read why it failed.
      if (!res.headersSent) for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
      throw error;
    }
  };
}
