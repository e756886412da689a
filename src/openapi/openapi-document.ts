import { errorCatalog, type ErrorCode } from '../core/app-error';
import { DEFAULT_PAGE_SIZE, MAX_EXPIRES_IN_SECONDS, MAX_PAGE_SIZE, MAX_SIGNED_PARAMS_LENGTH } from '../images/image-schemas';
import { FITS, MAX_DIMENSION, NAMED_FORMATS } from '../variants/transformation';
import { FIELD_LIMITS } from '../uploads/multipart/upload-middleware';

type Schema = Readonly<Record<string, unknown>>;

/** The settings the document states as limits, so that it is as strict as the server it describes. */
export interface DocumentedLimits {
  /** MAX_FILES: the most files one upload may hold. */
  readonly maxFiles: number;
  /** MAX_FILE_SIZE: the largest Upload-Length a resumable upload may declare. */
  readonly maxFileSize: number;
  /** PRESETS, of which the names are documented. */
  readonly presets: Readonly<Record<string, unknown>>;
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): Schema => ({ type: [type, 'null'] });

const imageInfoProperties: Record<string, Schema> = {
  id: ref('ImageId'),
  filename: { type: 'string' },
  contentType: { type: 'string' },
  size: { type: 'integer', minimum: 0 },
  width: nullable('integer'),
  height: nullable('integer'),
  sha256: { type: ['string', 'null'], pattern: '^[0-9a-f]{64}$' },
  uploadDate: { type: 'string', format: 'date-time' },
  url: { type: 'string' },
};
const imageInfoRequired = ['id', 'filename', 'contentType', 'size', 'width', 'height', 'sha256', 'uploadDate', 'url'];

const schemas: Record<string, Schema> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; `code` is stable and safe to switch on.',
    required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
    properties: {
      type: { type: 'string', pattern: '^urn:image-api:problem:' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      code: { type: 'string', enum: Object.keys(errorCatalog) },
      instance: { type: 'string' },
    },
    additionalProperties: false,
  },
  UploadedImage: {
    type: 'object',
    required: ['id', 'filename', 'contentType', 'size', 'url', 'duplicate'],
    properties: {
      id: ref('ImageId'),
      filename: { type: 'string' },
      contentType: { type: 'string' },
      size: {
        type: 'integer',
        minimum: 0,
        description: 'Bytes stored: fewer than were sent when STRIP_METADATA=true removed metadata.',
      },
      url: { type: 'string' },
      duplicate: { type: 'boolean', description: 'The bytes were already stored (DEDUP=true): `id` is that image.' },
    },
    additionalProperties: false,
  },
  UploadResult: {
    type: 'object',
    required: ['message', 'images'],
    properties: { message: { type: 'string' }, images: { type: 'array', items: ref('UploadedImage'), minItems: 1 } },
    additionalProperties: false,
  },
  ImageInfo: { type: 'object', required: imageInfoRequired, properties: imageInfoProperties, additionalProperties: false },
  ImageDetails: {
    type: 'object',
    description: 'ImageInfo and a page of the variants stored of the image, oldest first',
    required: [...imageInfoRequired, 'variants', 'next'],
    properties: {
      ...imageInfoProperties,
      variants: { type: 'array', items: ref('StoredVariant') },
      next: { ...nullable('string'), description: 'The `cursor` of the next page of variants; null on the last one.' },
    },
    additionalProperties: false,
  },
  StoredVariant: {
    type: 'object',
    required: ['params', 'contentType', 'size', 'width', 'height', 'createdAt'],
    properties: {
      params: { type: 'string', description: 'The canonical parameters it was made with, as a query string' },
      contentType: { type: 'string' },
      size: { type: 'integer', minimum: 0 },
      width: nullable('integer'),
      height: nullable('integer'),
      createdAt: { type: 'string', format: 'date-time' },
    },
    additionalProperties: false,
  },
  ImagePage: {
    type: 'object',
    required: ['images', 'next'],
    properties: {
      images: { type: 'array', items: ref('ImageInfo') },
      next: { ...nullable('string'), description: 'The `cursor` of the next page; null on the last one.' },
    },
    additionalProperties: false,
  },
  SignRequest: {
    type: 'object',
    properties: {
      params: {
        type: 'string',
        default: '',
        maxLength: MAX_SIGNED_PARAMS_LENGTH,
        description: 'The read query to sign, such as `w=300&format=webp`',
      },
      expiresIn: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_EXPIRES_IN_SECONDS,
        description: 'Seconds the URL stays valid, at most ten years; absent: forever',
      },
    },
    additionalProperties: false,
  },
  SignedUrl: {
    type: 'object',
    required: ['url', 'expiresAt'],
    properties: {
      url: { type: 'string', description: 'Path and query, relative to this server' },
      expiresAt: { ...nullable('integer'), description: 'Unix seconds; null: never' },
    },
    additionalProperties: false,
  },
  ClientSettings: {
    type: 'object',
    description: 'What a client should know before it uploads or builds read URLs',
    required: ['apiKeyRequired', 'maxFileSize', 'allowedTypes', 'variantSizes', 'signedUrlsRequired'],
    properties: {
      apiKeyRequired: { type: 'boolean', description: 'API_KEYS or ADMIN_API_KEYS is set: uploads, deletes, signing, the listing and image info need a key' },
      maxFileSize: { type: 'integer', minimum: 1, description: 'MAX_FILE_SIZE' },
      allowedTypes: { type: 'array', items: { type: 'string' }, description: 'ALLOWED_TYPES as media types' },
      variantSizes: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'VARIANT_SIZES, smallest first' },
      signedUrlsRequired: { type: 'boolean', description: 'REQUIRE_SIGNED_URLS: image reads need a signed URL' },
    },
    additionalProperties: false,
  },
  ImageId: { type: 'string', pattern: '^[0-9a-f]{24}$' },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok', 'ready', 'not-ready', 'shutting-down'] } },
    additionalProperties: false,
  },
};

/** One response per status, listing every code that status can carry. */
function problems(...codes: ErrorCode[]): Record<string, Schema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = errorCatalog[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, listed]) => [
      String(status),
      {
        description: listed.map((code) => `\`${code}\`: ${errorCatalog[code].title}`).join('; '),
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    ]),
  );
}

const json = (description: string, schema: Schema): Schema => ({ description, content: { 'application/json': { schema } } });
/** An answer with `Cache-Control: no-cache` and an ETag of its bytes, revalidated with If-None-Match. */
const notModified = { '304': { description: 'Not modified: If-None-Match names the ETag of the answer as it would be now' } };
const idParameter = { name: 'id', in: 'path', required: true, schema: ref('ImageId') };
const bearer = [{ apiKey: [] }, {}];
const always: ErrorCode[] = ['internal-error'];
const readErrors: ErrorCode[] = ['invalid-id', 'image-not-found', 'malformed-request', 'database-unavailable', ...always];
/** `rate-limited`: too many wrong keys from the client's address (API_KEY_FAILURE_LIMIT). */
const writeGuard: ErrorCode[] = ['missing-api-key', 'invalid-api-key', 'rate-limited'];

const imageBody = (description: string): Schema => ({
  description,
  content: { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } } },
});

const dimension = (name: string, side: string): Schema => ({
  name,
  in: 'query',
  schema: { type: 'integer', minimum: 1, maximum: MAX_DIMENSION },
  description: `${side} in pixels; without a signature, one of VARIANT_SIZES`,
});

const pageParameters: Schema[] = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
  { name: 'cursor', in: 'query', schema: { type: 'string', minLength: 1 }, description: 'The `next` of the previous page' },
];

/** One of PRESETS' names; none is valid when none is set. */
function presetSchema(names: readonly string[]): Schema {
  return names.length > 0 ? { type: 'string', enum: names } : { type: 'string', not: {} };
}

/**
 * Any of them makes the read a variant; other query parameters are ignored. `preset` excludes
 * the parameters before it, which parameters of their own cannot say in a schema: its
 * description does, and the server answers 400 `invalid-transformation`.
 */
const transformationParameters = (presetNames: readonly string[]): Schema[] => [
  dimension('w', 'Width'),
  dimension('h', 'Height'),
  { name: 'fit', in: 'query', schema: { type: 'string', enum: [...FITS], default: 'inside' }, description: 'How the image fits w×h; needs w or h' },
  {
    name: 'enlarge',
    in: 'query',
    schema: { type: 'boolean', default: false },
    description: 'Allow a variant larger than the original; needs w or h, and a signed URL',
  },
  {
    name: 'format',
    in: 'query',
    schema: { type: 'string', enum: [...NAMED_FORMATS, 'original', 'auto'], default: 'original' },
    description: '`auto`: AVIF if Accept lists image/avif, else WebP if it lists image/webp, else the original format (with `Vary: Accept`)',
  },
  { name: 'q', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 }, description: 'Quality of JPEG, WebP and AVIF (defaults 80, 80, 50); needs a signed URL' },
  {
    name: 'preset',
    in: 'query',
    schema: presetSchema(presetNames),
    description: 'One of PRESETS. Never with w, h, fit, enlarge, format or q: together they answer 400 `invalid-transformation`',
  },
  {
    name: 'exp',
    in: 'query',
    // Read only beside `sig`: alone, it is ignored like any parameter not named here.
    schema: { type: 'string' },
    description: 'Whole Unix seconds after which a signed URL is refused; part of what `sig` signs, and ignored without it',
  },
  {
    name: 'sig',
    in: 'query',
    schema: { type: 'string' },
    description:
      'HMAC-SHA256 (SIGNING_KEY) of the path and the sorted w, h, fit, enlarge, format, q, preset and exp, base64url; lifts VARIANT_SIZES up to MAX_VARIANT_PIXELS, and allows q and enlarge',
  },
];

const readImage = (method: 'get' | 'head', presetNames: readonly string[]): Schema => ({
  operationId: `${method}Image`,
  summary: method === 'get' ? 'The image, or a variant of it, ready for an <img> tag' : 'The headers of GET, no body',
  parameters: [idParameter, ...transformationParameters(presetNames)],
  responses: {
    '200': imageBody('The image, or the variant the query asks for (made and stored on its first request)'),
    ...(method === 'get' ? { '206': imageBody('The bytes of one `Range`') } : {}),
    '304': { description: 'Not modified (If-None-Match or If-Modified-Since matched)' },
    ...problems(
      ...readErrors,
      'invalid-transformation',
      'invalid-signature',
      'signature-required',
      'image-not-transformable',
      'variant-too-large',
      'too-many-transformations',
      'transformations-busy',
      'precondition-failed',
      ...(method === 'get' ? (['range-not-satisfiable'] as const) : []),
    ),
  },
});

const uploadIdParameter = {
  name: 'uploadId',
  in: 'path',
  required: true,
  schema: ref('ImageId'),
  description: 'The last segment of the `Location` the creation answered',
};
const tusResumable = {
  name: 'Tus-Resumable',
  in: 'header',
  required: true,
  schema: { type: 'string', const: '1.0.0' },
};
const tusProtocol: ErrorCode[] = ['malformed-tus-request', 'unsupported-tus-version', 'database-unavailable', ...always];
const tusUpload: ErrorCode[] = [...tusProtocol, ...writeGuard, 'upload-not-found', 'upload-expired'];
const contentRefusals: ErrorCode[] = ['file-too-large', 'too-many-pixels', 'unsupported-image-type', 'inspections-busy'];
const finishedHeaders = 'On the answer that finishes the upload: `X-Image-Id` and `X-Image-Url` (`/image/<id>`) name the stored image.';

/** tus 1.0's syntax: keys of printable ASCII but space and comma, values in base64. */
const METADATA_PAIR = '[!-+\\--~]+( ([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)?';
const UPLOAD_METADATA = `^${METADATA_PAIR}(,${METADATA_PAIR})*$`;

/** Any path segment: a preflight answers the same whatever the id, and checks none. */
const preflightParameter = (name: string): Schema => ({ name, in: 'path', required: true, schema: { type: 'string' } });

const resumablePaths = (maxFileSize: number) => ({
  '/image/uploads': {
    options: {
      operationId: 'discoverResumableUploads',
      summary: 'tus discovery: Tus-Version, Tus-Extension, Tus-Max-Size (= MAX_FILE_SIZE); the CORS preflight of a creation from CORS_UPLOAD_ORIGINS',
      responses: { '204': { description: 'The server speaks tus 1.0.0 with creation, creation-with-upload, termination and expiration' } },
    },
    post: {
      operationId: 'createResumableUpload',
      summary: 'tus creation: Upload-Length (at most MAX_FILE_SIZE) and Upload-Metadata (filename); with a body (creation-with-upload), its bytes too',
      security: bearer,
      parameters: [
        tusResumable,
        { name: 'Upload-Length', in: 'header', required: true, schema: { type: 'integer', minimum: 1, maximum: maxFileSize } },
        {
          name: 'Upload-Metadata',
          in: 'header',
          schema: { type: 'string', pattern: UPLOAD_METADATA },
          description: 'Comma-separated keys, each with its value in base64 after a space, or none; each key once; `filename` names the image',
        },
      ],
      responses: {
        '201': { description: `Created: \`Location\` is the upload's URL, \`Upload-Expires\` when it expires. ${finishedHeaders}` },
        ...problems(...tusProtocol, ...writeGuard, ...contentRefusals, 'upload-length-exceeded', 'rate-limited', 'unsupported-tus-extension', 'upload-locked'),
      },
    },
  },
  '/image/uploads/{uploadId}': {
    options: {
      operationId: 'preflightResumableUpload',
      summary: 'CORS preflight for HEAD, PATCH and DELETE of an upload, from CORS_UPLOAD_ORIGINS',
      parameters: [preflightParameter('uploadId')],
      responses: { '204': { description: 'Preflight answer' } },
    },
    head: {
      operationId: 'resumableUploadOffset',
      summary: 'tus: how many bytes are stored (Upload-Offset), of Upload-Length; a PATCH still writing the upload is stopped first',
      security: bearer,
      parameters: [uploadIdParameter, tusResumable],
      responses: {
        '200': { description: `Upload-Offset and Upload-Length; \`Cache-Control: no-store\`. ${finishedHeaders}` },
        ...problems(...tusUpload, 'upload-locked'),
      },
    },
    patch: {
      operationId: 'resumeResumableUpload',
      summary: 'tus: append bytes at Upload-Offset; the last ones are checked like a multipart upload. Stopped by a later request for the upload, it is answered with what it stored',
      security: bearer,
      parameters: [
        uploadIdParameter,
        tusResumable,
        { name: 'Upload-Offset', in: 'header', required: true, schema: { type: 'integer', minimum: 0, maximum: maxFileSize } },
      ],
      requestBody: {
        required: true,
        content: { 'application/offset+octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
      },
      responses: {
        '204': { description: `Stored: Upload-Offset is the new offset. ${finishedHeaders}` },
        ...problems(...tusUpload, ...contentRefusals, 'upload-length-exceeded', 'upload-offset-mismatch', 'upload-locked', 'request-timeout'),
      },
    },
    delete: {
      operationId: 'terminateResumableUpload',
      summary: 'tus termination: removes an unfinished upload and every byte it stored',
      security: bearer,
      parameters: [uploadIdParameter, tusResumable],
      responses: { '204': { description: 'Removed' }, ...problems(...tusUpload, 'upload-finished', 'upload-locked') },
    },
  },
});

const paths = ({ maxFiles, maxFileSize, presets }: DocumentedLimits) => ({
  // Ahead of /image/{id}, which the route labels would otherwise match first.
  ...resumablePaths(maxFileSize),
  '/image/upload': {
    options: {
      operationId: 'preflightUpload',
      summary: 'CORS preflight for an upload with a key from CORS_UPLOAD_ORIGINS',
      responses: { '204': { description: 'Preflight answer: POST with Authorization for those origins; only `Vary: Origin` for any other' } },
    },
    post: {
      operationId: 'uploadImages',
      summary: 'Upload 1 to MAX_FILES images in the multipart field `images`',
      security: bearer,
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: {
                images: {
                  type: 'array',
                  items: { type: 'string', contentMediaType: 'application/octet-stream' },
                  minItems: 1,
                  maxItems: maxFiles,
                  description: 'Each an image of ALLOWED_TYPES, recognised by its bytes, of at most MAX_FILE_SIZE bytes and MAX_PIXELS pixels',
                },
              },
              additionalProperties: {
                type: 'string',
                maxLength: FIELD_LIMITS.fieldSize,
                description: `Other text fields are ignored: at most ${FIELD_LIMITS.fields}, of ${FIELD_LIMITS.fieldSize} bytes each`,
              },
              maxProperties: FIELD_LIMITS.fields + 1,
              // Control characters cannot be sent in a part's header.
              propertyNames: { minLength: 1, maxLength: FIELD_LIMITS.fieldNameSize, pattern: '^[^\\u0000-\\u001f\\u007f]*$' },
              required: ['images'],
            },
          },
        },
      },
      responses: {
        '201': json('Every listed image is stored and readable', ref('UploadResult')),
        ...problems(
          'not-multipart', 'malformed-multipart', 'no-images', 'unexpected-field', 'malformed-request',
          ...writeGuard, 'file-too-large', 'too-many-files', 'form-too-large', 'too-many-pixels',
          'unsupported-image-type', 'inspections-busy', 'rate-limited', 'request-timeout', 'database-unavailable', ...always,
        ),
      },
    },
  },
  '/image': {
    get: {
      operationId: 'listImages',
      summary: "Stored images, newest first: with API_KEYS, only the caller's own (an admin key's: all)",
      security: bearer,
      parameters: pageParameters,
      responses: { '200': json('One page', ref('ImagePage')), ...notModified, ...problems('invalid-query', ...writeGuard, 'database-unavailable', ...always) },
    },
  },
  '/image/{id}': {
    get: readImage('get', Object.keys(presets)),
    head: readImage('head', Object.keys(presets)),
    delete: {
      operationId: 'deleteImage',
      summary: "Delete an image and all its chunks; another key's image is not found",
      description:
        'An upload still being written is no image yet: 404, and its chunks are left to it. If-Match (strong), If-Unmodified-Since and If-None-Match are evaluated as RFC 9110, 13.2.2 orders them: 412, and nothing deleted, when they do not hold.',
      security: bearer,
      parameters: [idParameter],
      responses: { '204': { description: 'Deleted' }, ...problems(...writeGuard, ...readErrors, 'precondition-failed') },
    },
    options: {
      operationId: 'preflightImage',
      summary: 'CORS preflight for reads (CORS_ORIGINS), and DELETE with a key from CORS_UPLOAD_ORIGINS',
      parameters: [preflightParameter('id')],
      responses: { '204': { description: 'Preflight answer' } },
    },
  },
  '/image/{id}/info': {
    get: {
      operationId: 'describeImage',
      summary: "What is known of one image, and a page of the variants stored of it; another key's image is not found",
      security: bearer,
      parameters: [idParameter, ...pageParameters],
      responses: { '200': json('The image', ref('ImageDetails')), ...notModified, ...problems('invalid-query', ...writeGuard, ...readErrors) },
    },
  },
  '/image/{id}/sign': {
    options: {
      operationId: 'preflightSign',
      summary: 'CORS preflight for signing with a key from CORS_UPLOAD_ORIGINS',
      parameters: [preflightParameter('id')],
      responses: { '204': { description: 'Preflight answer: POST with Authorization and Content-Type for those origins; only `Vary: Origin` for any other' } },
    },
    post: {
      operationId: 'signImageUrl',
      summary: "A signed read URL for the image, with any transformation up to MAX_VARIANT_PIXELS; the body, if any, is JSON of at most 4 KiB; another key's image is not found",
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: false, content: { 'application/json': { schema: ref('SignRequest') } } },
      responses: {
        '200': json('The signed URL', ref('SignedUrl')),
        ...problems(...writeGuard, ...readErrors, 'body-too-large', 'not-json', 'invalid-transformation', 'signing-not-configured'),
      },
    },
  },
  '/healthz': {
    get: { operationId: 'health', summary: 'The process is alive', responses: { '200': json('Alive', ref('Health')) } },
  },
  '/readyz': {
    get: {
      operationId: 'readiness',
      summary: 'The database answers and the server is not shutting down',
      responses: { '200': json('Ready', ref('Health')), '503': json('Not ready', ref('Health')) },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
  '/openapi.json': {
    get: { operationId: 'openapi', summary: 'This document', responses: { '200': json('OpenAPI 3.1', { type: 'object' }), ...notModified } },
  },
  '/docs': {
    get: {
      operationId: 'docs',
      summary: 'Swagger UI for this document',
      responses: { '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } }, ...notModified },
    },
  },
  '/client-settings': {
    get: {
      operationId: 'clientSettings',
      summary: 'Whether uploads need an API key, the upload limits and the variant sizes, for the web page and other clients',
      responses: { '200': json('The settings', ref('ClientSettings')), ...notModified },
    },
  },
  '/': {
    get: {
      operationId: 'webPage',
      summary: 'The web page: upload with progress and resume, and a gallery (its scripts and styles are under /assets/)',
      responses: {
        '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        ...notModified,
        ...problems('route-not-found'),
      },
    },
  },
});

/**
 * The API contract for a server with these settings; tests check that every route is in it and
 * that real answers match it.
 */
export function createOpenApiDocument(limits: DocumentedLimits) {
  return Object.freeze({
    openapi: '3.1.0',
    info: {
      title: 'image-api',
      version: '0.1.0',
      description:
        'Upload images as multipart/form-data into MongoDB GridFS and serve them by id. A path below asked with a method it does not list answers 405 `method-not-allowed` with `Allow`; any other path, 404 `route-not-found`.',
    },
    components: {
      schemas,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'One of API_KEYS or ADMIN_API_KEYS; needed only when either is set. A key touches only the images and uploads it made; an admin key, all.',
        },
      },
    },
    paths: paths(limits),
  });
}
