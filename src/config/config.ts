import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../core/config-error';
import { derivedKeyName, type NamedApiKey } from '../access/api-keys';
import type { CorsOrigins } from '../access/cors';
import { imageTypes, isImageType, type ImageType } from '../media/image-inspection';
import { MAX_DIMENSION, parsePresets, type Transformation } from '../variants/transformation';

const MIB = 1024 * 1024;
const DAY_SECONDS = 24 * 60 * 60;

function integer(min: number, max: number, fallback: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);
}

const knownImageTypes = Object.keys(imageTypes).join(', ');

const imageTypeList = z
  .string()
  .trim()
  .transform((value, context): readonly ImageType[] => {
    const names = value.split(',').map((name) => name.trim().toLowerCase());
    const known = names.filter(isImageType);
    if (known.length !== names.length) {
      context.addIssue({ code: 'custom', message: `must be a comma-separated list of: ${knownImageTypes}` });
      return z.NEVER;
    }
    return Object.freeze([...new Set(known)]);
  });

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((value) => value === 'true')
    .default(fallback);

/** Printable ASCII without spaces or commas (the separator), long enough not to be guessed. */
const API_KEY = /^[!-+\--~]{16,}$/;

/** `name:key`; anything else is a bare key, named after its hash. */
const NAMED_KEY = /^([A-Za-z0-9_.-]{1,64}):(.*)$/;

function namedKey(entry: string, admin: boolean): NamedApiKey {
  const named = NAMED_KEY.exec(entry);
  return named ? { name: named[1] ?? '', key: named[2] ?? '', admin } : { name: derivedKeyName(entry), key: entry, admin };
}

function apiKeyList(admin: boolean) {
  return z.string().transform((value, context): readonly NamedApiKey[] => {
    const keys = value.split(',').map((entry) => namedKey(entry.trim(), admin));
    const invalid = keys.findIndex(({ key }) => !API_KEY.test(key));
    if (invalid === -1) return Object.freeze([...new Map(keys.map((key) => [`${key.name}:${key.key}`, key])).values()]);
    context.addIssue({
      code: 'custom',
      message: `key ${invalid + 1} of ${keys.length} must be at least 16 printable ASCII characters, without spaces or commas, after an optional "name:"`,
    });
    return z.NEVER;
  });
}

/** A key under two names, or both an admin's and not, would leave whose its uploads are to chance. */
function keyedOnce(keys: readonly NamedApiKey[]): boolean {
  return new Set(keys.map(({ key }) => key)).size === keys.length;
}

const sizeList = z
  .string()
  .trim()
  .transform((value, context): readonly number[] => {
    const sizes = value.split(',').map((size) => size.trim());
    if (sizes.every((size) => /^\d{1,5}$/.test(size) && Number(size) >= 1 && Number(size) <= MAX_DIMENSION)) {
      return Object.freeze([...new Set(sizes.map(Number))].sort((a, b) => a - b));
    }
    context.addIssue({ code: 'custom', message: `must be a comma-separated list of whole numbers from 1 to ${MAX_DIMENSION}` });
    return z.NEVER;
  });

const presetList = z.string().transform((value, context): Readonly<Record<string, Transformation>> => {
  const parsed = parsePresets(value);
  if (parsed.ok) return parsed.value;
  context.addIssue({ code: 'custom', message: `preset "${parsed.invalid.parameter}": ${parsed.invalid.reason}` });
  return z.NEVER;
});

const DEFAULT_VARIANT_SIZES = '64,128,256,320,480,640,768,1024,1280,1536,1920,2560';
const DEFAULT_PRESETS = 'thumb:w=200,h=200,fit=cover;card:w=640,format=auto';

const environmentSchema = z.object({
  PORT: integer(0, 65535, 3000),
  MONGODB_URI: z
    .string()
    .trim()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  MONGODB_TIMEOUT_MS: integer(100, 600_000, 5000),
  DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data'),
  TOOLS_DIR: z.string().trim().min(1, 'must not be empty').optional(),
  MAX_FILE_SIZE: integer(1, Number.MAX_SAFE_INTEGER, 50 * MIB),
  MAX_FILES: integer(1, 1000, 10),
  BUCKET_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"')
    .default('images'),
  ALLOWED_TYPES: imageTypeList.default(Object.freeze(['jpeg', 'png', 'gif', 'webp', 'avif'] as const)),
  MAX_PIXELS: integer(1, Number.MAX_SAFE_INTEGER, 50_000_000),
  DEDUP: booleanFlag(false),
  STRIP_METADATA: booleanFlag(false),
  VARIANT_SIZES: sizeList.prefault(DEFAULT_VARIANT_SIZES),
  PRESETS: presetList.prefault(DEFAULT_PRESETS),
  MAX_VARIANT_PIXELS: integer(1, MAX_DIMENSION * MAX_DIMENSION, 25_000_000),
  MAX_OUTPUT_PIXELS: integer(1, Number.MAX_SAFE_INTEGER, 50_000_000),
  SIGNING_KEY: z
    .string()
    .trim()
    .regex(/^[!-~]{32,}$/, 'must be at least 32 printable ASCII characters without spaces (openssl rand -hex 32 makes one)')
    .optional(),
  REQUIRE_SIGNED_URLS: booleanFlag(false),
  MAX_VARIANTS_PER_IMAGE: integer(1, 100_000, 100),
  TRANSFORM_CONCURRENCY: integer(1, 1024, availableParallelism()),
  TRANSFORM_QUEUE: integer(0, 100_000, 100),
  TRANSFORM_QUEUE_PER_CLIENT: integer(1, 100_000, 20),
  TRANSFORM_CACHE_BYTES: integer(0, Number.MAX_SAFE_INTEGER, 32 * MIB),
  CACHE_MAX_BYTES: integer(0, Number.MAX_SAFE_INTEGER, 64 * MIB),
  CACHE_MAX_ITEM_BYTES: integer(0, Number.MAX_SAFE_INTEGER, MIB),
  CACHE_TTL: integer(0, 86_400, 60),
  WRITE_CONCERN: z
    .string()
    .trim()
    .regex(/^(majority|\d{1,2})$/, 'must be majority or a number of members such as 1')
    .default('majority'),
  READ_PREFERENCE: z
    .enum(['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'], {
      error: 'must be primary, primaryPreferred, secondary, secondaryPreferred or nearest',
    })
    .default('primary'),
  CORS_ORIGINS: z
    .string()
    .trim()
    .regex(/^(\*|https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*)$/, 'must be * or a comma-separated list of origins such as https://example.com')
    .default('*'),
  API_KEYS: apiKeyList(false).optional(),
  ADMIN_API_KEYS: apiKeyList(true).optional(),
  UPLOAD_RATE_LIMIT: integer(0, 1_000_000, 60),
  API_KEY_FAILURE_LIMIT: integer(0, 1_000_000, 10),
  TRUST_PROXY: integer(0, 10, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { error: 'must be auto, json or pretty' }).default('auto'),
  HEADERS_TIMEOUT: integer(1, DAY_SECONDS, 30),
  REQUEST_TIMEOUT: integer(1, DAY_SECONDS, 3600),
  UPLOAD_IDLE_TIMEOUT: integer(1, DAY_SECONDS, 30),
  ORPHAN_GRACE: integer(1, 30 * DAY_SECONDS, 600),
  ORPHAN_SWEEP_INTERVAL: integer(1, DAY_SECONDS, 300),
  SHUTDOWN_TIMEOUT: integer(0, DAY_SECONDS, 25),
  RESUMABLE_EXPIRY: integer(1, 30 * DAY_SECONDS, DAY_SECONDS),
  WEB_CONCURRENCY: integer(1, 256, 1),
});

/** The name of every environment variable the service reads, for the check that each is documented. */
export const settingNames: readonly string[] = Object.freeze(Object.keys(environmentSchema.shape));

/** Node refuses a server whose headers may take longer than the whole request. */
const settingsSchema = environmentSchema
  .refine((env) => env.HEADERS_TIMEOUT <= env.REQUEST_TIMEOUT, {
    path: ['HEADERS_TIMEOUT'],
    message: 'must not be more than REQUEST_TIMEOUT',
  })
  .refine((env) => keyedOnce([...(env.API_KEYS ?? []), ...(env.ADMIN_API_KEYS ?? [])]), {
    path: ['API_KEYS'],
    message: 'must not give one key two names, nor list a key of ADMIN_API_KEYS',
  })
  .refine((env) => !env.REQUIRE_SIGNED_URLS || env.SIGNING_KEY !== undefined, {
    path: ['REQUIRE_SIGNED_URLS'],
    message: 'needs SIGNING_KEY',
  });

export interface Config {
  readonly port: number;
  /** Unset means: start the embedded database. */
  readonly mongodbUri: string | undefined;
  readonly mongodbTimeoutMs: number;
  readonly dataDir: string;
  /** Where the embedded FerretDB's binary is built and looked for; unset: the project's `.tools/`. */
  readonly toolsDir: string | undefined;
  readonly maxFileSize: number;
  readonly maxFiles: number;
  readonly bucketName: string;
  /** Formats accepted on upload, recognised by their bytes. */
  readonly allowedTypes: readonly ImageType[];
  /** Width times height; larger images are refused before their pixels are stored. */
  readonly maxPixels: number;
  /** Store each distinct content once, answering later uploads of it with the first id. */
  readonly dedup: boolean;
  /**
   * Store JPEG, PNG and WebP originals without EXIF, XMP, IPTC and comments, keeping ICC
   * profile and orientation; off keeps every upload byte for byte.
   */
  readonly stripMetadata: boolean;
  /** Widths and heights a read URL may ask a variant in, smallest first. */
  readonly variantSizes: readonly number[];
  /** Named transformations a read URL may ask for with `?preset=`, whatever their sizes. */
  readonly presets: Readonly<Record<string, Transformation>>;
  /** Width times height at most of a variant a signed URL asks for. */
  readonly maxVariantPixels: number;
  /** Pixels of a variant as it would be made, times its frames when animated; beyond, it is refused before any work. */
  readonly maxOutputPixels: number;
  /** Variants stored of one original at most; making one more removes those made longest ago. */
  readonly maxVariantsPerImage: number;
  /** Signs read URLs that may ask any size; unset: no URL is signed. */
  readonly signingKey: string | undefined;
  /** Every image read, originals included, needs a signed URL. */
  readonly requireSignedUrls: boolean;
  /** Variants made at once; more wait in a queue of `transformQueue`, beyond which reads answer 503. */
  readonly transformConcurrency: number;
  readonly transformQueue: number;
  /** Reads of one client (API key, else address) that may wait on a transformation at once; beyond, 429. */
  readonly transformQueuePerClient: number;
  /** Bytes of originals kept whole after a transformation, for the next sizes of the same image; 0: none. */
  readonly transformCacheBytes: number;
  /** Bytes of image records and small bodies kept in memory; 0 turns the cache off. */
  readonly cacheMaxBytes: number;
  readonly cacheMaxItemBytes: number;
  /**
   * Seconds an image stays cached before this instance asks the database again: how long it may
   * keep serving an image that another instance deleted. 0: until evicted (one instance only).
   */
  readonly cacheTtlSeconds: number;
  /** Acknowledgement an upload waits for: `majority` survives a replica set failover. */
  readonly writeConcern: 'majority' | number;
  readonly readPreference: z.infer<typeof environmentSchema>['READ_PREFERENCE'];
  readonly corsOrigins: CorsOrigins;
  /** API_KEYS and ADMIN_API_KEYS, each with its name: the keys writes need; empty: anyone may write. */
  readonly apiKeys: readonly NamedApiKey[];
  /** Uploads per client per minute; 0 turns the limit off. */
  readonly uploadRateLimit: number;
  /** Wrong API keys per client address per minute before the address is refused; 0 turns the limit off. */
  readonly apiKeyFailureLimit: number;
  /** How many proxies in front of us to trust for the client's address (X-Forwarded-For). */
  readonly trustProxy: number;
  readonly logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  /** `auto`: readable lines when a person watches a terminal and pino-pretty is installed, else JSON. */
  readonly logFormat: z.infer<typeof environmentSchema>['LOG_FORMAT'];
  /** Longest a client may take to send a request's headers. */
  readonly headersTimeoutSeconds: number;
  /** Longest a client may take to send a whole request, body included. */
  readonly requestTimeoutSeconds: number;
  /** Longest an upload's body may go without a byte while the server waits for one. */
  readonly uploadIdleTimeoutSeconds: number;
  /** Chunks without a file document are removed once their newest chunk is this old. */
  readonly orphanGraceSeconds: number;
  readonly orphanSweepIntervalSeconds: number;
  /** Longest the requests in flight at SIGTERM or SIGINT may take before they are cut off. */
  readonly shutdownTimeoutSeconds: number;
  /** Seconds from its creation after which an unfinished resumable upload is refused and removed. */
  readonly resumableExpirySeconds: number;
  /** Worker processes serving requests; above 1, a primary process runs them with node:cluster. */
  readonly webConcurrency: number;
}

function parseOrigins(value: string): CorsOrigins {
  return value === '*' ? '*' : Object.freeze(value.split(',').map((origin) => origin.trim()));
}

type Environment = Readonly<Record<string, string | undefined>>;

/** Variables whose values are never echoed in an error: they hold keys or passwords. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['API_KEYS', 'ADMIN_API_KEYS', 'MONGODB_URI', 'SIGNING_KEY']);

/** Empty values count as unset, so that a blank line in .env falls back to the default. */
function withoutBlankValues(environment: Environment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== '',
    ),
  );
}

export function loadConfig(environment: Environment): Config {
  const parsed = settingsSchema.safeParse(withoutBlankValues(environment));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const got = SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(environment[variable])})`;
    throw new ConfigError(`Invalid configuration: ${variable} ${issue?.message ?? 'is invalid'}${got}`);
  }
  const env = parsed.data;
  return Object.freeze({
    port: env.PORT,
    mongodbUri: env.MONGODB_URI,
    mongodbTimeoutMs: env.MONGODB_TIMEOUT_MS,
    dataDir: env.DATA_DIR,
    toolsDir: env.TOOLS_DIR,
    maxFileSize: env.MAX_FILE_SIZE,
    maxFiles: env.MAX_FILES,
    bucketName: env.BUCKET_NAME,
    allowedTypes: env.ALLOWED_TYPES,
    maxPixels: env.MAX_PIXELS,
    dedup: env.DEDUP,
    stripMetadata: env.STRIP_METADATA,
    variantSizes: env.VARIANT_SIZES,
    presets: env.PRESETS,
    maxVariantPixels: env.MAX_VARIANT_PIXELS,
    maxOutputPixels: env.MAX_OUTPUT_PIXELS,
    maxVariantsPerImage: env.MAX_VARIANTS_PER_IMAGE,
    signingKey: env.SIGNING_KEY,
    requireSignedUrls: env.REQUIRE_SIGNED_URLS,
    transformConcurrency: env.TRANSFORM_CONCURRENCY,
    transformQueue: env.TRANSFORM_QUEUE,
    transformQueuePerClient: env.TRANSFORM_QUEUE_PER_CLIENT,
    transformCacheBytes: env.TRANSFORM_CACHE_BYTES,
    cacheMaxBytes: env.CACHE_MAX_BYTES,
    cacheMaxItemBytes: env.CACHE_MAX_ITEM_BYTES,
    cacheTtlSeconds: env.CACHE_TTL,
    writeConcern: env.WRITE_CONCERN === 'majority' ? 'majority' : Number(env.WRITE_CONCERN),
    readPreference: env.READ_PREFERENCE,
    corsOrigins: parseOrigins(env.CORS_ORIGINS),
    apiKeys: Object.freeze([...(env.API_KEYS ?? []), ...(env.ADMIN_API_KEYS ?? [])]),
    uploadRateLimit: env.UPLOAD_RATE_LIMIT,
    apiKeyFailureLimit: env.API_KEY_FAILURE_LIMIT,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    headersTimeoutSeconds: env.HEADERS_TIMEOUT,
    requestTimeoutSeconds: env.REQUEST_TIMEOUT,
    uploadIdleTimeoutSeconds: env.UPLOAD_IDLE_TIMEOUT,
    orphanGraceSeconds: env.ORPHAN_GRACE,
    orphanSweepIntervalSeconds: env.ORPHAN_SWEEP_INTERVAL,
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT,
    resumableExpirySeconds: env.RESUMABLE_EXPIRY,
    webConcurrency: env.WEB_CONCURRENCY,
  });
}
