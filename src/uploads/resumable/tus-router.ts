import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Server } from '@tus/server';
import type { Locker } from '@tus/utils';
import { Router, type Request as ExpressRequest, type RequestHandler } from 'express';
import { ObjectId } from 'mongodb';
import { NOBODY, type Caller } from '../../core/caller';
import type { ApiKeyAccess } from '../../access/api-key-guard';
import { watchBodyIdle } from '../../http/body-idle-timer';
import { corsForWrites, KEY_ANSWER_HEADERS, type UploadOrigins, type WriteRoute } from '../../access/cors';
import { createUploadRateLimit, type UploadRateLimitOptions } from '../../access/upload-rate-limit';
import { GridFsDataStore } from './gridfs-data-store';
import { bodyEndingWithTheClient } from './request-body';
import type { ResumableUploads } from './resumable-uploads';
import { resumableOutcome } from './upload-outcome';
import { declaredLengthOf, problemOfTusAnswer, problemOfTusError, type TusSizes } from './tus-problems';

export const RESUMABLE_PATH = '/image/uploads';

export interface ResumableRouterOptions extends UploadRateLimitOptions {
  readonly maxFileSize: number;
  readonly corsUploadOrigins: UploadOrigins;
  readonly uploadIdleTimeoutSeconds: number;
}

/**
 * How long a PATCH asked to let go of its upload reads on before it stops: time for the bytes
 * already on their way (a connection that was cut after sending them) to be stored rather than
 * sent again, short enough that a client resuming elsewhere is not kept waiting.
 */
const STOP_GRACE_MS = 1000;

/**
 * CORS of CORS_UPLOAD_ORIGINS, ours rather than @tus/server's, which echoes its first allowed
 * origin to any other and never says `Vary: Origin`: a creation, and what follows on an upload.
 */
const EXPOSED_HEADERS = [
  ...KEY_ANSWER_HEADERS,
  'Location', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size',
  'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'X-Image-Id', 'X-Image-Url', 'RateLimit', 'RateLimit-Policy',
];
const CREATION_CORS: WriteRoute = {
  methods: ['POST'],
  requestHeaders: ['Authorization', 'Tus-Resumable', 'Upload-Length', 'Upload-Metadata', 'Content-Type'],
  exposedHeaders: EXPOSED_HEADERS,
};
const UPLOAD_CORS: WriteRoute = {
  methods: ['HEAD', 'PATCH', 'DELETE'],
  requestHeaders: ['Authorization', 'Tus-Resumable', 'Upload-Offset', 'Content-Type'],
  exposedHeaders: EXPOSED_HEADERS,
};
const ITS_OWN_CORS = /^access-control-/;

function imageHeaders(imageId: string): Record<string, string> {
  return { 'X-Image-Id': imageId, 'X-Image-Url': `/image/${imageId}` };
}

function toFetchHeaders(headers: IncomingHttpHeaders): Headers {
  const fetchHeaders = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) fetchHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return fetchHeaders;
}

/** The request as @tus/server reads it; the body streams through as it arrives. */
function toFetchRequest(req: ExpressRequest): Request {
  const hasBody = req.method === 'POST' || req.method === 'PATCH';
  return new Request(new URL(req.originalUrl, 'http://localhost'), {
    method: req.method,
    headers: toFetchHeaders(req.headers),
    ...(hasBody ? { body: bodyEndingWithTheClient(req), duplex: 'half' } : {}),
  });
}

function copyHeaders(from: Response, to: ServerResponse, except: readonly string[] = []): void {
  from.headers.forEach((value, name) => {
    if (!except.includes(name) && !ITS_OWN_CORS.test(name)) to.setHeader(name, value);
  });
}

export function createResumableRouter(
  uploads: ResumableUploads,
  locker: Locker,
  { apiKeys, requireApiKey }: ApiKeyAccess,
  options: ResumableRouterOptions,
): Router {
  const sizesOf = (request: Request): TusSizes => ({ maxFileSize: options.maxFileSize, declaredLength: declaredLengthOf(request) });
  /** Errors @tus/server caught, by request, so that the answer can be ours. */
  const caught = new WeakMap<Request, Error>();
  /** Who sent the request being served, for the store and hooks @tus/server calls without it. */
  const callers = new AsyncLocalStorage<Caller>();
  const callerNow = (): Caller => {
    const caller = callers.getStore();
    if (!caller) throw new Error('a tus request was served without its caller');
    return caller;
  };
  const tus = new Server({
    path: RESUMABLE_PATH,
    datastore: new GridFsDataStore(uploads, callerNow),
    locker,
    lockDrainTimeout: STOP_GRACE_MS,
    relativeLocation: true,
    maxSize: options.maxFileSize,
    namingFunction: () => new ObjectId().toHexString(),
    onUploadFinish: async (_req, upload) => {
      const { imageId } = await uploads.find(upload.id);
      return imageId === undefined ? {} : { headers: imageHeaders(imageId) };
    },
    // Every HEAD, PATCH and DELETE of an upload comes by here first: another key's is not found.
    onIncomingRequest: async (req, uploadId) => {
      if (req.method !== 'POST') await uploads.authorize(uploadId, callerNow());
    },
    onResponseError: (req, error) => {
      caught.set(req, problemOfTusError(error, sizesOf(req)));
      return undefined;
    },
  });

  /** A finished upload's HEAD names its image, as the PATCH that finished it did. */
  async function withImageHeaders(req: ExpressRequest, response: Response): Promise<void> {
    const { headers } = response;
    if (req.method !== 'HEAD' || headers.get('upload-offset') !== headers.get('upload-length')) return;
    const { imageId } = await uploads.find(String(req.params.uploadId));
    if (imageId !== undefined) Object.entries(imageHeaders(imageId)).forEach(([name, value]) => headers.set(name, value));
  }

  const serve: RequestHandler = async (req, res) => {
    const request = toFetchRequest(req);
    // A preflight carries no key, and touches no upload.
    const caller = req.method === 'OPTIONS' ? NOBODY : apiKeys.callerOf(req.headers.authorization);
    const response = await callers.run(caller, () => tus.handleWeb(request));
    if (response.status >= 400) {
      copyHeaders(response, res, ['content-type', 'content-length']);
      // A PATCH refused before its body was read: the rest will not be read either, and a
      // half-read request would hold its connection until the idle timer cut it.
      if (!req.complete) res.setHeader('Connection', 'close');
      throw caught.get(request) ?? problemOfTusAnswer(response.status, await response.text(), sizesOf(request));
    }
    await withImageHeaders(req, response);
    const body = Buffer.from(await response.arrayBuffer());
    // The fetch Response labels even an empty body as text; tus answers carry none.
    copyHeaders(response, res, body.length === 0 ? ['content-type'] : []);
    res.status(response.status).end(body);
  };

  /** A PATCH that stops sending is ended, so that its lock is let go and what it sent is recorded. */
  const endWhenIdle: RequestHandler = (req, res, next) => {
    watchBodyIdle(req, res, options.uploadIdleTimeoutSeconds * 1000, () => req.destroy());
    next();
  };

  // Each upload counts once against the limit, when it is created; its PATCHes are part of it.
  const limitUploads = createUploadRateLimit(apiKeys, options);

  const router = Router();
  router.use((_req, res, next) => {
    res.locals.report?.endsUpload(resumableOutcome);
    next();
  });
  const creationCors = corsForWrites({ origins: options.corsUploadOrigins, route: CREATION_CORS });
  const uploadCors = corsForWrites({ origins: options.corsUploadOrigins, route: UPLOAD_CORS });
  router.options('/', creationCors, serve);
  router.post('/', creationCors, limitUploads, requireApiKey, endWhenIdle, serve);
  router.options('/:uploadId', uploadCors, serve);
  router.head('/:uploadId', uploadCors, requireApiKey, serve);
  router.patch('/:uploadId', uploadCors, requireApiKey, endWhenIdle, serve);
  router.delete('/:uploadId', uploadCors, requireApiKey, serve);
  return router;
}
