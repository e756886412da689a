import { Router, type Request, type RequestHandler } from 'express';
import { AppError } from '../core/app-error';
import type { ApiKeyAccess } from '../access/api-key-guard';
import {
  corsForWrites,
  corsPreflightHeaders,
  corsReadHeaders,
  corsWriteHeaders,
  KEY_ANSWER_HEADERS,
  type CorsOrigins,
  type UploadOrigins,
  type WriteRoute,
} from '../access/cors';
import { jsonBody } from '../http/json-body';
import { CACHE_POLICY, sendRevalidatableJson } from '../http/cache-policy';
import { createUploadRateLimit, type UploadRateLimitOptions } from '../access/upload-rate-limit';
import type { ImageCatalog } from './image-catalog';
import { judgedByAnswer } from '../observability/request-observer';
import type { ImageReadHandler } from '../delivery/image-read-handler';
import { conditionsOf } from '../delivery/read-plan';
import { parseImageId } from '../core/image-id';
import { encodeCursor, parseListQuery, parseSignRequest, parseVariantPageQuery, toImageDetails, toImageInfo } from './image-schemas';
import type { ImageService, StoredImage } from '../uploads/image-service';
import type { UrlSigner } from '../delivery/read-url-signature';
import { createUploadMiddleware, UPLOAD_FIELD, type UploadOptions } from '../uploads/multipart/upload-middleware';

export interface ImageRouterOptions extends UploadOptions, UploadRateLimitOptions {
  readonly corsOrigins: CorsOrigins;
  readonly corsUploadOrigins: UploadOrigins;
}

export interface ImageRouterServices extends ApiKeyAccess {
  readonly images: ImageService;
  readonly catalog: ImageCatalog;
  readonly readImage: ImageReadHandler;
  readonly signUrl: UrlSigner;
}

/** What a page on a CORS_UPLOAD_ORIGINS origin sends to each write, with its key, and reads of the answer. */
const UPLOAD_CORS: WriteRoute = {
  methods: ['POST'],
  requestHeaders: ['Authorization'],
  exposedHeaders: [...KEY_ANSWER_HEADERS, 'RateLimit', 'RateLimit-Policy'],
};
const SIGN_CORS: WriteRoute = { methods: ['POST'], requestHeaders: ['Authorization', 'Content-Type'], exposedHeaders: KEY_ANSWER_HEADERS };
const DELETE_CORS: WriteRoute = {
  methods: ['DELETE'],
  requestHeaders: ['Authorization', 'If-Match', 'If-Unmodified-Since', 'If-None-Match'],
  exposedHeaders: KEY_ANSWER_HEADERS,
};

/** A sign request is a short query string and a number. */
const SIGN_BODY_BYTES = 4 * 1024;

function toUploadedImage({ image, duplicate }: StoredImage) {
  return {
    id: image.id,
    filename: image.filename,
    contentType: image.contentType,
    size: image.size,
    url: `/image/${image.id}`,
    duplicate,
  };
}

function storedImages(req: Request): StoredImage[] {
  const files = Array.isArray(req.files) ? req.files : [];
  const stored = files.flatMap((file) => (file.stored ? [file.stored] : []));
  if (stored.length === 0) {
    throw new AppError('no-images', `Attach at least one file in the "${UPLOAD_FIELD}" field.`);
  }
  return stored;
}

export function createImageRouter(
  { images, catalog, readImage, signUrl, apiKeys, requireApiKey }: ImageRouterServices,
  options: ImageRouterOptions,
): Router {
  const router = Router();
  const limitUploads = createUploadRateLimit(apiKeys, options);
  const callerOf = (req: Request) => apiKeys.callerOf(req.headers.authorization);
  const ownerOf = (req: Request) => callerOf(req).owner;
  const writes = (route: WriteRoute) => ({ origins: options.corsUploadOrigins, route });
  const preflight = (route: WriteRoute): RequestHandler => (req, res) => {
    res.set(corsWriteHeaders(writes(route), 'OPTIONS', req.headers)).status(204).end();
  };

  // Every answer to this request, refusals included, is the upload's outcome.
  const countedAsUpload: RequestHandler = (_req, res, next) => {
    res.locals.report?.endsUpload(judgedByAnswer);
    next();
  };
  // Both refuse before the body is parsed, so that a refused upload stores nothing.
  router.options('/upload', preflight(UPLOAD_CORS));
  router.post('/upload', corsForWrites(writes(UPLOAD_CORS)), countedAsUpload, limitUploads, requireApiKey, createUploadMiddleware(images, ownerOf, options), (req, res) => {
    const stored = storedImages(req);
    // Nobody would ever learn the ids of images whose answer never reached the client.
    const discardAll = () => Promise.all(stored.map((image) => images.discard(image)));
    if (req.socket.destroyed) {
      void discardAll();
      return;
    }
    res.once('close', () => {
      if (!res.writableFinished) void discardAll();
    });
    res
      .status(201)
      .set('Cache-Control', CACHE_POLICY.never)
      .json({ message: 'Images uploaded successfully', images: stored.map(toUploadedImage) });
  });

  // With API_KEYS, a caller lists and describes only its own images, so these take a key too.
  router.get('/', requireApiKey, async (req, res) => {
    const { limit, after } = parseListQuery(req.query);
    const page = await catalog.list(callerOf(req), limit, after);
    const answer = { images: page.images.map(toImageInfo), next: page.next ? encodeCursor(page.next) : null };
    sendRevalidatableJson(res.set(corsReadHeaders(options.corsOrigins, req.headers)), answer, CACHE_POLICY.callersOwn);
  });

  router.get('/:id/info', requireApiKey, async (req: Request<{ id: string }>, res) => {
    const id = parseImageId(req.params.id);
    const { limit, after } = parseVariantPageQuery(req.query);
    const details = await catalog.describe(id, callerOf(req), limit, after);
    sendRevalidatableJson(res.set(corsReadHeaders(options.corsOrigins, req.headers)), toImageDetails(details), CACHE_POLICY.callersOwn);
  });

  router.options('/:id/sign', preflight(SIGN_CORS));
  router.post('/:id/sign', corsForWrites(writes(SIGN_CORS)), requireApiKey, jsonBody(SIGN_BODY_BYTES), async (req: Request<{ id: string }>, res) => {
    const id = parseImageId(req.params.id);
    const { params, expiresIn } = parseSignRequest(req.body);
    await catalog.find(id, callerOf(req));
    res.set('Cache-Control', CACHE_POLICY.never).json(signUrl(id, params, expiresIn));
  });

  // Reads usually take the lean path in app.ts; this route serves the same answer to the rest.
  router.get('/:id', (req, res) => readImage(req, res, req.params.id));

  router.delete('/:id', corsForWrites(writes(DELETE_CORS)), requireApiKey, async (req: Request<{ id: string }>, res) => {
    await catalog.remove(parseImageId(req.params.id), callerOf(req), conditionsOf(req.headers));
    res.status(204).end();
  });

  router.options('/:id', (req, res) => {
    res.set(corsPreflightHeaders(options.corsOrigins, req.headers, writes(DELETE_CORS))).status(204).end();
  });

  return router;
}
