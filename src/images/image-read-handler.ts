import { once } from 'node:events';
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
 * Waits for the first bytes before sending the status line, so that a file that cannot be
 * read at all still gets a proper error answer; after that, a failure can only cut the
 * connection. A client that leaves early is not an error.
 */
async function sendStream(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Readable) {
  await once(body, 'readable');
  res.writeHead(status, headers);
  try {
    await pipeline(body, res);
  } catch (error) {
    if (!isPrematureClose(error)) throw error;
  }
}

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

  return async (req, res, id) => {
    // Set first, so that error answers carry them too and a cross-origin page can read them.
    for (const [name, value] of Object.entries(corsReadHeaders(options.corsOrigins, req.headers))) {
      res.setHeader(name, value);
    }
    const image = await reader.find(parseImageId(id));
    const { validators, headers } = representationOf(image);
    const plan = planRead(req.headers, image.size, validators);

    switch (plan.kind) {
      case 'not-modified':
        res.writeHead(304, headers).end();
        return;
      case 'unsatisfiable':
        throw new AppError('range-not-satisfiable', `The image has ${image.size} bytes.`, {
          headers: { 'Content-Range': `bytes */${image.size}` },
        });
      case 'full':
        await sendContent(req, res, 200, { ...headers, 'Content-Type': image.contentType, 'Content-Length': image.size }, image);
        return;
      case 'partial': {
        const { start, end } = plan.range;
        await sendContent(
          req,
          res,
          206,
          {
            ...headers,
            'Content-Type': image.contentType,
            'Content-Length': end - start + 1,
            'Content-Range': `bytes ${start}-${end}/${image.size}`,
          },
          image,
          plan.range,
        );
      }
    }
  };
}
