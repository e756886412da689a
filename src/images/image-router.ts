import { Router, type Request } from 'express';
import { AppError } from '../errors/app-error';
import { corsPreflightHeaders, type CorsOrigins } from '../http/cors';
import type { ImageReadHandler } from './image-read-handler';
import type { ImageRecord } from './image-repository';
import type { ImageService } from './image-service';
import { createUploadMiddleware, UPLOAD_FIELD, type UploadOptions } from './upload-middleware';

export interface ImageRouterOptions extends UploadOptions {
  readonly corsOrigins: CorsOrigins;
}

function toUploadedImage(image: ImageRecord) {
  return {
    id: image.id,
    filename: image.filename,
    contentType: image.contentType,
    size: image.size,
    url: `/image/${image.id}`,
  };
}

function storedImages(req: Request): ImageRecord[] {
  const files = Array.isArray(req.files) ? req.files : [];
  const images = files.flatMap((file) => (file.image ? [file.image] : []));
  if (images.length === 0) {
    throw new AppError('no-images', `Attach at least one file in the "${UPLOAD_FIELD}" field.`);
  }
  return images;
}

export function createImageRouter(images: ImageService, readImage: ImageReadHandler, options: ImageRouterOptions): Router {
  const router = Router();

  router.post('/upload', createUploadMiddleware(images, options), (req, res) => {
    const stored = storedImages(req);
    // Nobody would ever learn the ids of images whose answer never reached the client.
    const discardAll = () => Promise.all(stored.map((image) => images.discard(image.id)));
    if (req.socket.destroyed) {
      void discardAll();
      return;
    }
    res.once('close', () => {
      if (!res.writableFinished) void discardAll();
    });
    res.status(201).json({ message: 'Images uploaded successfully', images: stored.map(toUploadedImage) });
  });

  // Reads usually take the lean path in app.ts; this route serves the same answer to the rest.
  router.get('/:id', (req, res) => readImage(req, res, req.params.id));

  router.options('/:id', (req, res) => {
    res.set(corsPreflightHeaders(options.corsOrigins, req.headers)).status(204).end();
  });

  return router;
}
