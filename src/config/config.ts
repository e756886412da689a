import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../core/config-error';
import { derivedKeyName, type NamedApiKey } from '../access/api-keys';
import type { CorsOrigins, UploadOrigins } from '../access/cors';
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

/** The environment variable a setting is read from, kept with its schema: each setting is declared once. */
function fromVariable<T extends z.ZodType>(variable: string, schema: T): T {
  return schema.meta({ variable });
}

function variableOf(schema: z.ZodType | undefined): string | undefined {
  const variable = schema && z.globalRegistry.get(schema)?.variable;
  return typeof variable === 'string' ? variable : undefined;
}

/** Exactly an origin as a browser sends it in `Origin`: no path, no trailing slash, no user. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

function parseUploadOrigins(value: string | undefined): UploadOrigins {
  return Object.freeze(value === undefined ? [] : [...new Set(value.split(',').map((origin) => origin.trim()))]);
}

function parseOrigins(value: string): CorsOrigins {
  return value === '*' ? '*' : Object.freeze(value.split(',').map((origin) => origin.trim()));
}

const settingsShape = {
  port: fromVariable('PORT', integer(0, 65535, 3000)),
  /** Unset means: start the embedded database. */
  mongodbUri: fromVariable(
    'MONGODB_URI',
    z
      .string()
      .trim()
      .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string')
      .optional(),
  ),
  mongodbTimeoutMs: fromVariable('MONGODB_TIMEOUT_MS', integer(100, 600_000, 5000)),
  dataDir: fromVariable('DATA_DIR', z.string().trim().min(1, 'must not be empty').default('./data')),
  /** Where the embedded FerretDB's binary is built and looked for; unset: the project's `.tools/`. */
  toolsDir: fromVariable('TOOLS_DIR', z.string().trim().min(1, 'must not be empty').optional()),
  maxFileSize: fromVariable('MAX_FILE_SIZE', integer(1, Number.MAX_SAFE_INTEGER, 50 * MIB)),
  maxFiles: fromVariable('MAX_FILES', integer(1, 1000, 10)),
  bucketName: fromVariable(
    'BUCKET_NAME',
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"')
      .default('images'),
  ),
  /** Formats accepted on upload, recognised by their bytes. */
  allowedTypes: fromVariable('ALLOWED_TYPES', imageTypeList.default(Object.freeze(['jpeg', 'png', 'gif', 'webp', 'avif'] as const))),
  /** Width times height; larger images are refused before their pixels are stored. */
  maxPixels: fromVariable('MAX_PIXELS', integer(1, Number.MAX_SAFE_INTEGER, 50_000_000)),
  /** Store each distinct content once, answering later uploads of it with the first id. */
  dedup: fromVariable('DEDUP', booleanFlag(false)),
  /**
   * Store JPEG, PNG and WebP originals without EXIF, XMP, IPTC and comments, keeping ICC
   * profile and orientation; off keeps every upload byte for byte.
   */
  stripMetadata: fromVariable('STRIP_METADATA', booleanFlag(false)),
  /** Widths and heights a read URL may ask a variant in, smallest first. */
  variantSizes: fromVariable('VARIANT_SIZES', sizeList.prefault(DEFAULT_VARIANT_SIZES)),
  /** Named transformations a read URL may ask for with `?preset=`, whatever their sizes. */
  presets: fromVariable('PRESETS', presetList.prefault(DEFAULT_PRESETS)),
  /** Width times height at most of a variant a signed URL asks for. */
  maxVariantPixels: fromVariable('MAX_VARIANT_PIXELS', integer(1, MAX_DIMENSION * MAX_DIMENSION, 25_000_000)),
  /** Pixels of a variant as it would be made, times its frames when animated; beyond, it is refused before any work. */
  maxOutputPixels: fromVariable('MAX_OUTPUT_PIXELS', integer(1, Number.MAX_SAFE_INTEGER, 50_000_000)),
  /** Variants stored of one original at most; making one more removes those made longest ago. */
  maxVariantsPerImage: fromVariable('MAX_VARIANTS_PER_IMAGE', integer(1, 100_000, 100)),
  /** Signs read URLs that may ask any size; unset: no URL is signed. */
  signingKey: fromVariable(
    'SIGNING_KEY',
    z
      .string()
      .trim()
      .regex(/^[!-~]{32,}$/, 'must be at least 32 printable ASCII characters without spaces (openssl rand -hex 32 makes one)')
      .optional(),
  ),
  /** Every image read, originals included, needs a signed URL. */
  requireSignedUrls: fromVariable('REQUIRE_SIGNED_URLS', booleanFlag(false)),
  /** Variants made at once; more wait in a queue of `transformQueue`, beyond which reads answer 503. */
  transformConcurrency: fromVariable('TRANSFORM_CONCURRENCY', integer(1, 1024, availableParallelism())),
  transformQueue: fromVariable('TRANSFORM_QUEUE', integer(0, 100_000, 100)),
  /** Reads of one client (API key, else address) that may wait on a transformation at once; beyond, 429. */
  transformQueuePerClient: fromVariable('TRANSFORM_QUEUE_PER_CLIENT', integer(1, 100_000, 20)),
  /**
   * Uploads whose frames the decoder counts at once, each read whole for it (GIF, WebP, AVIF,
   * TIFF, ICO); `inspectionQueue` more wait, beyond which uploads answer 503.
   */
  inspectionConcurrency: fromVariable('INSPECTION_CONCURRENCY', integer(1, 1024, 2)),
  inspectionQueue: fromVariable('INSPECTION_QUEUE', integer(0, 100_000, 64)),
  /** Bytes of originals kept whole after a transformation, for the next sizes of the same image; 0: none. */
  transformCacheBytes: fromVariable('TRANSFORM_CACHE_BYTES', integer(0, Number.MAX_SAFE_INTEGER, 32 * MIB)),
  /** Bytes of image records and small bodies kept in memory; 0 turns the cache off. */
  cacheMaxBytes: fromVariable('CACHE_MAX_BYTES', integer(0, Number.MAX_SAFE_INTEGER, 64 * MIB)),
  cacheMaxItemBytes: fromVariable('CACHE_MAX_ITEM_BYTES', integer(0, Number.MAX_SAFE_INTEGER, MIB)),
  /**
   * Seconds an image stays cached before this instance asks the database again: how long it may
   * keep serving an image that another instance deleted. 0: until evicted (one instance only).
   */
  cacheTtlSeconds: fromVariable('CACHE_TTL', integer(0, 86_400, 60)),
  /** Acknowledgement an upload waits for: `majority` survives a replica set failover. */
  writeConcern: fromVariable(
    'WRITE_CONCERN',
    z
      .string()
      .trim()
      .regex(/^(majority|\d{1,2})$/, 'must be majority or a number of members such as 1')
      .default('majority')
      .transform((value): 'majority' | number => (value === 'majority' ? 'majority' : Number(value))),
  ),
  readPreference: fromVariable(
    'READ_PREFERENCE',
    z
      .enum(['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'], {
        error: 'must be primary, primaryPreferred, secondary, secondaryPreferred or nearest',
      })
      .default('primary'),
  ),
  corsOrigins: fromVariable(
    'CORS_ORIGINS',
    z
      .string()
      .trim()
      .regex(/^(\*|https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*)$/, 'must be * or a comma-separated list of origins such as https://example.com')
      .default('*')
      .transform(parseOrigins),
  ),
  /** Pages that may upload, sign and delete from a browser with a key; empty: none. */
  corsUploadOrigins: fromVariable(
    'CORS_UPLOAD_ORIGINS',
    z
      .string()
      .trim()
      .refine(
        (list) => list.split(',').every((origin) => isOrigin(origin.trim())),
        'must be a comma-separated list of origins such as https://app.example: scheme, host and port only, never *',
      )
      .optional()
      .transform(parseUploadOrigins),
  ),
  /** The keys writes need, each with its name; with ADMIN_API_KEYS's, `apiKeys` in the config. Empty: anyone may write. */
  apiKeys: fromVariable('API_KEYS', apiKeyList(false).optional()),
  adminApiKeys: fromVariable('ADMIN_API_KEYS', apiKeyList(true).optional()),
  /** Uploads per client per minute; 0 turns the limit off. */
  uploadRateLimit: fromVariable('UPLOAD_RATE_LIMIT', integer(0, 1_000_000, 60)),
  /** Wrong API keys per client address per minute before the address is refused; 0 turns the limit off. */
  apiKeyFailureLimit: fromVariable('API_KEY_FAILURE_LIMIT', integer(0, 1_000_000, 10)),
  /** How many proxies in front of us to trust for the client's address (X-Forwarded-For). */
  trustProxy: fromVariable('TRUST_PROXY', integer(0, 10, 0)),
  logLevel: fromVariable('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  /** `auto`: readable lines when a person watches a terminal and pino-pretty is installed, else JSON. */
  logFormat: fromVariable('LOG_FORMAT', z.enum(['auto', 'json', 'pretty'], { error: 'must be auto, json or pretty' }).default('auto')),
  /** Longest a client may take to send a request's headers. */
  headersTimeoutSeconds: fromVariable('HEADERS_TIMEOUT', integer(1, DAY_SECONDS, 30)),
  /** Longest a client may take to send a whole request, body included. */
  requestTimeoutSeconds: fromVariable('REQUEST_TIMEOUT', integer(1, DAY_SECONDS, 3600)),
  /** Longest an upload's body may go without a byte while the server waits for one. */
  uploadIdleTimeoutSeconds: fromVariable('UPLOAD_IDLE_TIMEOUT', integer(1, DAY_SECONDS, 30)),
  /** Chunks without a file document are removed once their newest chunk is this old. */
  orphanGraceSeconds: fromVariable('ORPHAN_GRACE', integer(1, 30 * DAY_SECONDS, 600)),
  orphanSweepIntervalSeconds: fromVariable('ORPHAN_SWEEP_INTERVAL', integer(1, DAY_SECONDS, 300)),
  /** Longest the requests in flight at SIGTERM or SIGINT may take before they are cut off. */
  shutdownTimeoutSeconds: fromVariable('SHUTDOWN_TIMEOUT', integer(0, DAY_SECONDS, 25)),
  /** Seconds from its creation after which an unfinished resumable upload is refused and removed. */
  resumableExpirySeconds: fromVariable('RESUMABLE_EXPIRY', integer(1, 30 * DAY_SECONDS, DAY_SECONDS)),
  /** Longest a request waits for another to let go of a resumable upload before it is answered 423. */
  resumableLockWaitSeconds: fromVariable('RESUMABLE_LOCK_WAIT', integer(2, 600, 5)),
  /** Worker processes serving requests; above 1, a primary process runs them with node:cluster. */
  webConcurrency: fromVariable('WEB_CONCURRENCY', integer(1, 256, 1)),
};

/** Every environment variable the service reads, in the order they are declared. */
export const SETTING_VARIABLES: readonly string[] = Object.freeze(
  Object.values(settingsShape).flatMap((schema) => variableOf(schema) ?? []),
);

const settingsSchema = z
  .object(settingsShape)
  /** Node refuses a server whose headers may take longer than the whole request. */
  .refine((settings) => settings.headersTimeoutSeconds <= settings.requestTimeoutSeconds, {
    path: ['headersTimeoutSeconds'],
    message: 'must not be more than REQUEST_TIMEOUT',
  })
  .refine((settings) => keyedOnce([...(settings.apiKeys ?? []), ...(settings.adminApiKeys ?? [])]), {
    path: ['apiKeys'],
    message: 'must not give one key two names, nor list a key of ADMIN_API_KEYS',
  })
  .refine((settings) => !settings.requireSignedUrls || settings.signingKey !== undefined, {
    path: ['requireSignedUrls'],
    message: 'needs SIGNING_KEY',
  })
  .transform(({ apiKeys, adminApiKeys, ...settings }) => ({
    ...settings,
    apiKeys: Object.freeze([...(apiKeys ?? []), ...(adminApiKeys ?? [])]),
  }));

/**
 * The settings as the schema makes them. Every key is present, undefined where a setting
 * without a default is unset: the input names every key (`settingsInput`).
 */
export type Config = Readonly<Required<z.output<typeof settingsSchema>>>;

type Environment = Readonly<Record<string, string | undefined>>;

/** Variables whose values are never echoed in an error: they hold keys or passwords. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['API_KEYS', 'ADMIN_API_KEYS', 'MONGODB_URI', 'SIGNING_KEY']);

/** Empty values count as unset, so that a blank line in .env falls back to the default. */
function valueOf(environment: Environment, variable: string): string | undefined {
  const value = environment[variable];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function settingsInput(environment: Environment): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(settingsShape).map(([key, schema]) => [key, valueOf(environment, variableOf(schema) ?? key)]),
  );
}

export function loadConfig(environment: Environment): Config {
  const parsed = settingsSchema.safeParse(settingsInput(environment));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const variable = variableOf((settingsShape as Record<string, z.ZodType>)[key]) ?? 'environment';
    const got = SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(environment[variable])})`;
    throw new ConfigError(`Invalid configuration: ${variable} ${issue?.message ?? 'is invalid'}${got}`);
  }
  const settings: Config = { ...parsed.data, mongodbUri: parsed.data.mongodbUri, toolsDir: parsed.data.toolsDir, signingKey: parsed.data.signingKey };
  return Object.freeze(settings);
}
