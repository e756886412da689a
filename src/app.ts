import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Config } from './config';
import { malformedPath, problemResponder, routeNotFound, sendProblem } from './errors/problem-responder';
import { createImageCache } from './images/image-cache';
import { createImageReadHandler, type ImageReadHandler } from './images/image-read-handler';
import { createImageReader } from './images/image-reader';
import type { ImageRepository } from './images/image-repository';
import { createImageRouter } from './images/image-router';
import { createImageService } from './images/image-service';
import type { Logger } from './logger';

export interface AppDependencies {
  readonly config: Pick<
    Config,
    | 'maxFileSize'
    | 'maxFiles'
    | 'uploadIdleTimeoutSeconds'
    | 'cacheMaxBytes'
    | 'cacheMaxItemBytes'
    | 'corsOrigins'
  >;
  readonly logger: Logger;
  /** Shared with the orphan sweep, which must know which uploads are still being written. */
  readonly repository: ImageRepository;
}

interface Parts {
  readonly express: Express;
  readonly readImage: ImageReadHandler;
}

function buildParts({ config, logger, repository }: AppDependencies): Parts {
  const cache = createImageCache({ maxBytes: config.cacheMaxBytes, maxItemBytes: config.cacheMaxItemBytes });
  const images = createImageService(repository, { maxFileSize: config.maxFileSize, logger, cache });
  const readImage = createImageReadHandler(createImageReader(repository, cache), config);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use('/image', createImageRouter(images, readImage, config));
  app.use(routeNotFound);
  app.use(problemResponder(logger));
  return { express: app, readImage };
}

/** Every route through Express, reads included; the lean path below must answer the same. */
export function createExpressApp(deps: AppDependencies): Express {
  return buildParts(deps).express;
}

const IMAGE_PATH = /^\/image\/([^/?#]+)(?:[?#].*)?$/;

/** The id of a GET or HEAD for one image, exactly as Express would decode it, or undefined. */
function leanImageId(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const encodedId = IMAGE_PATH.exec(req.url ?? '')?.[1];
  if (encodedId === undefined) return undefined;
  try {
    return decodeURIComponent(encodedId);
  } catch (error) {
    throw malformedPath(error);
  }
}

/**
 * The request listener. Image reads are most of the traffic and Express's per-request work
 * costs several times what the read itself does, so GET and HEAD of /image/:id go straight to
 * the same handler Express would call; everything else goes through Express.
 */
export function createApp(deps: AppDependencies): RequestListener {
  const { express: app, readImage } = buildParts(deps);
  return (req: IncomingMessage, res: ServerResponse) => {
    const answer = (error: unknown) => sendProblem(deps.logger, error, req, res);
    try {
      const id = leanImageId(req);
      if (id === undefined) {
        app(req, res);
        return;
      }
      readImage(req, res, id).catch(answer);
    } catch (error) {
      answer(error);
    }
  };
}
