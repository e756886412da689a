import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Db } from 'mongodb';
import type { Config } from './config/config';
import { createApiKeyGuard } from './access/api-key-guard';
import { createApiKeys } from './access/api-keys';
import { createClientIdentifier } from './access/client-identity';
import { CACHE_POLICY } from './http/cache-policy';
import { malformedPath, NOSNIFF, problemResponder, routeNotFound, sendProblem } from './http/problem-responder';
import { createImageCache } from './storage/image-cache';
import { createImageCatalog } from './images/image-catalog';
import { createImageReadHandler, type ImageReadHandler } from './delivery/image-read-handler';
import { createImageReader } from './storage/image-reader';
import type { ImageRepository } from './storage/image-repository';
import { createImageRouter } from './images/image-router';
import { createImageService } from './uploads/image-service';
import { createInspectionLimiter } from './uploads/inspection-limiter';
import type { WorkLimiter } from './core/work-limiter';
import { createUrlSigner } from './delivery/read-url-signature';
import type { Clock } from './core/clock';
import type { Logger } from './core/logger';
import type { PendingWrites } from './core/pending-writes';
import { createHealthRouter } from './health/health-router';
import type { Lifecycle } from './health/lifecycle';
import type { Metrics } from './observability/metrics';
import { createRouteLabeller } from './openapi/route-of';
import { methodNotAllowed } from './openapi/method-not-allowed';
import { createRequestObserver, REQUEST_ID_HEADER, type RequestObserver } from './observability/request-observer';
import { createDocsRouter } from './openapi/docs-router';
import { createOpenApiDocument } from './openapi/openapi-document';
import { createClientSettingsRouter } from './page/client-settings';
import { createPageRouter } from './page/page-router';
import type { VariantRepository } from './storage/variant-repository';
import { createClientShares } from './variants/client-shares';
import { createTransformationLimiter } from './variants/transformation-limiter';
import { createOriginalSources } from './variants/original-sources';
import { createVariantService } from './variants/variant-service';
import { createResumableUploads } from './uploads/resumable/resumable-uploads';
import { createResumableRouter, RESUMABLE_PATH } from './uploads/resumable/tus-router';
import { createUploadStateRepository } from './storage/upload-state-repository';
import { createLockRepository } from './storage/lock-repository';
import { createUploadLocker } from './uploads/resumable/upload-locker';

export interface AppDependencies {
  readonly config: Pick<
    Config,
    | 'maxFileSize'
    | 'maxFiles'
    | 'allowedTypes'
    | 'maxPixels'
    | 'dedup'
    | 'stripMetadata'
    | 'variantSizes'
    | 'presets'
    | 'maxVariantPixels'
    | 'maxVariantsPerImage'
    | 'signingKey'
    | 'requireSignedUrls'
    | 'transformConcurrency'
    | 'transformQueue'
    | 'transformQueuePerClient'
    | 'maxOutputPixels'
    | 'transformCacheBytes'
    | 'cacheMaxBytes'
    | 'cacheMaxItemBytes'
    | 'cacheTtlSeconds'
    | 'corsOrigins'
    | 'corsUploadOrigins'
    | 'apiKeys'
    | 'uploadRateLimit'
    | 'apiKeyFailureLimit'
    | 'trustProxy'
    | 'uploadIdleTimeoutSeconds'
    | 'bucketName'
    | 'resumableExpirySeconds'
    | 'inspectionConcurrency'
    | 'inspectionQueue'
    | 'resumableLockWaitSeconds'
  >;
  readonly logger: Logger;
  /** What every expiry, grace and time to live is measured by. */
  readonly clock: Clock;
  /** For the readiness ping. */
  readonly db: Db;
  /** Shared with the orphan sweep, which must know which uploads are still being written. */
  readonly repository: ImageRepository;
  /** Where variants are stored, apart from originals. */
  readonly variantRepository: VariantRepository;
  readonly metrics: Metrics;
  /** The shutdown barrier the repositories count their writes in, which resumable uploads count theirs in too. */
  readonly writes: Pick<PendingWrites, 'track'>;
  /** Tells `/readyz` that shutdown has begun. */
  readonly lifecycle: Lifecycle;
  /** Bounds the uploads whose frames are counted at once; by default INSPECTION_CONCURRENCY and INSPECTION_QUEUE's. */
  readonly inspections?: WorkLimiter;
}

interface Parts {
  readonly express: Express;
  readonly readImage: ImageReadHandler;
  readonly observe: RequestObserver;
  /** Segments of other routes that `/image/{id}` would take for an id: `upload`, `uploads`. */
  readonly notImageIds: ReadonlySet<string>;
}

/** `/image/upload` and `/image/uploads` are routes of their own, whatever the lean path's pattern says. */
function literalImageSegments(routes: readonly string[]): ReadonlySet<string> {
  return new Set(routes.flatMap((route) => /^\/image\/([^/{}]+)$/.exec(route)?.[1] ?? []));
}

/** Express observes every request it serves; the lean read path observes its own. */
function buildParts({ config, logger, clock, db, repository, variantRepository, metrics, writes, lifecycle, ...given }: AppDependencies): Parts {
  const cache = createImageCache({
    maxBytes: config.cacheMaxBytes,
    maxItemBytes: config.cacheMaxItemBytes,
    ttlSeconds: config.cacheTtlSeconds,
    clock,
    onLookup: (part, hit) => metrics.countCacheLookup(part, hit),
  });
  const inspections =
    given.inspections ?? createInspectionLimiter({ concurrency: config.inspectionConcurrency, queueLength: config.inspectionQueue });
  const images = createImageService(repository, { ...config, logger, cache, inspections });
  const reader = createImageReader(repository, cache);
  const sources = createOriginalSources(reader, { maxBytes: config.transformCacheBytes, ttlSeconds: config.cacheTtlSeconds, clock });
  // A deletion here lets go of everything this instance keeps of the image.
  const forgetImage = (id: string) => {
    cache.forget(id);
    sources.forget(id);
  };
  const catalog = createImageCatalog(repository, reader, { forget: forgetImage }, variantRepository);
  const limiter = createTransformationLimiter({ concurrency: config.transformConcurrency, queueLength: config.transformQueue });
  metrics.watchTransformations(limiter);
  const variants = createVariantService(variantRepository, {
    maxPixels: config.maxPixels,
    maxOutputPixels: config.maxOutputPixels,
    maxVariantsPerImage: config.maxVariantsPerImage,
    logger,
    cache,
    sources,
    onTransformation: (format, outcome) => metrics.countTransformation(format, outcome),
    limiter,
    shares: createClientShares(config.transformQueuePerClient),
  });
  const apiKeys = createApiKeys(config.apiKeys);
  const readImage = createImageReadHandler(
    {
      originals: reader,
      variants,
      variantContent: createImageReader(variantRepository, cache),
    },
    { ...config, clock, clientOf: createClientIdentifier(apiKeys, config.trustProxy) },
  );
  const resumable = createResumableUploads(createUploadStateRepository(db, config.bucketName), images, writes, {
    ...config,
    expirySeconds: config.resumableExpirySeconds,
    clock,
  });

  const openApiDocument = createOpenApiDocument(config);
  const observe = createRequestObserver(logger, metrics, createRouteLabeller(Object.keys(openApiDocument.paths)));
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // No browser may read a JSON or problem answer as script or HTML, whatever it is labelled.
  app.use((_req, res, next) => {
    res.setHeader(NOSNIFF.name, NOSNIFF.value);
    next();
  });
  app.use((req, res, next) => {
    const report = observe(req, res);
    res.locals.report = report;
    res.setHeader(REQUEST_ID_HEADER, report.id);
    next();
  });
  // The upload limit counts clients by address; behind proxies, that is in their X-Forwarded-For.
  app.set('trust proxy', config.trustProxy);
  const signUrl = createUrlSigner({ ...config, clock });
  // One guard for both routers, so that wrong keys count alike on every route that takes one.
  const requireApiKey = createApiKeyGuard(apiKeys, { ...config, logger });
  // Ahead of every route: GET /image/upload is no read of an image called "upload".
  app.use(methodNotAllowed(openApiDocument.paths));
  const locker = createUploadLocker(createLockRepository(db, config.bucketName), { waitMs: config.resumableLockWaitSeconds * 1000, clock });
  // Ahead of the image routes, whose /image/:id would otherwise take /image/uploads.
  app.use(RESUMABLE_PATH, createResumableRouter(resumable, locker, { apiKeys, requireApiKey }, { ...config, logger }));
  app.use('/image', createImageRouter({ images, catalog, readImage, signUrl, apiKeys, requireApiKey }, { ...config, logger }));
  app.use(createHealthRouter(db, lifecycle));
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).set('Cache-Control', CACHE_POLICY.never).send(await metrics.render());
  });
  app.use(createDocsRouter(openApiDocument));
  app.use(createClientSettingsRouter(config));
  app.use(createPageRouter());
  app.use(routeNotFound);
  app.use(problemResponder(logger));
  return { express: app, readImage, observe, notImageIds: literalImageSegments(Object.keys(openApiDocument.paths)) };
}

/** Every route through Express, reads included; the lean path below must answer the same. */
export function createExpressApp(deps: AppDependencies): Express {
  return buildParts(deps).express;
}

const IMAGE_PATH = /^\/image\/([^/?#]+)(?:[?#].*)?$/;
/** What the request observer would find for these paths, given so that it need not look. */
const IMAGE_ROUTE = '/image/{id}';

/** The id of a GET or HEAD for one image, as it appears in the path, or undefined. */
function leanImagePathId(req: IncomingMessage, notImageIds: ReadonlySet<string>): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const id = IMAGE_PATH.exec(req.url ?? '')?.[1];
  return id === undefined || notImageIds.has(id) ? undefined : id;
}

/** Decoded exactly as Express would. */
function decodedId(encodedId: string): string {
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
  const { express: app, readImage, observe, notImageIds } = buildParts(deps);
  return (req: IncomingMessage, res: ServerResponse) => {
    const encodedId = leanImagePathId(req, notImageIds);
    if (encodedId === undefined) {
      app(req, res);
      return;
    }
    const report = observe(req, res, IMAGE_ROUTE);
    const answer = (error: unknown) => {
      if (!res.headersSent) res.setHeader(REQUEST_ID_HEADER, report.id);
      report.answeredWithProblem(sendProblem(deps.logger, error, req, res).code);
    };
    try {
      readImage(req, res, decodedId(encodedId), { [REQUEST_ID_HEADER]: report.id, [NOSNIFF.name]: NOSNIFF.value })?.catch(answer);
    } catch (error) {
      answer(error);
    }
  };
}
