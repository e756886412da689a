import { Router, type Request } from 'express';
import { AppError } from '../errors/app-error';
import type { ImageRecord } from './image-repository';
import { parseImageId } from './image-schemas';
import type { ImageService } from './image-service';
import { sendStream } from './send-stream';
import { createUploadMiddleware, UPLOAD_FIELD, type UploadLimits } from './upload-middleware';

function imageUrl(id: string): string {
  return `/image/${id}`;
}

function toUploadedImage(image: ImageRecord) {
  return {
    id: image.id,
    filename: image.filename,
    contentType: image.contentType,
    size: image.size,
    url: imageUrl(image.id),
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

export function createImageRouter(images: ImageService, limits: UploadLimits): Router {
  const router = Router();

  router.post('/upload', createUploadMiddleware(images, limits), (req, res) => {
    res.status(201).json({
      message: 'Images uploaded successfully',
      images: storedImages(req).map(toUploadedImage),
    });
  });

  router.get('/:id', async (req, res, next) => {
    const image = await images.find(parseImageId(req.params.id));
    res.set({
      'Content-Type': image.contentType,
      'Content-Length': String(image.size),
      'X-Content-Type-Options': 'nosniff',
    });
    // Express answers HEAD with the GET route; the body would be read from the database only to be dropped.
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    sendStream(images.openContent(image), res, next);
  });

  return router;
}
