import { availableParallelism } from 'node:os';
import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/core/config-error';
import { derivedKeyName } from '../../src/access/api-keys';

describe('loadConfig', () => {
  test('when nothing is set, then every setting has its documented default', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      mongodbUri: undefined,
      mongodbTimeoutMs: 5000,
      dataDir: './data',
      toolsDir: undefined,
      maxFileSize: 50 * 1024 * 1024,
      maxFiles: 10,
      bucketName: 'images',
      allowedTypes: ['jpeg', 'png', 'gif', 'webp', 'avif'],
      maxPixels: 50_000_000,
      dedup: false,
      stripMetadata: false,
      variantSizes: [64, 128, 256, 320, 480, 640, 768, 1024, 1280, 1536, 1920, 2560],
      presets: {
        thumb: { width: 200, height: 200, fit: 'cover', enlarge: false, format: 'original', quality: undefined },
        card: { width: 640, height: undefined, fit: 'inside', enlarge: false, format: 'auto', quality: undefined },
      },
      maxVariantPixels: 25_000_000,
      maxOutputPixels: 50_000_000,
      maxVariantsPerImage: 100,
      signingKey: undefined,
      requireSignedUrls: false,
      transformConcurrency: availableParallelism(),
      transformQueue: 100,
      transformQueuePerClient: 20,
      transformCacheBytes: 33554432,
      cacheMaxBytes: 64 * 1024 * 1024,
      cacheMaxItemBytes: 1024 * 1024,
      cacheTtlSeconds: 60,
      writeConcern: 'majority',
      readPreference: 'primary',
      corsOrigins: '*',
      corsUploadOrigins: [],
      apiKeys: [],
      uploadRateLimit: 60,
      apiKeyFailureLimit: 10,
      trustProxy: 0,
      logLevel: 'info',
      logFormat: 'auto',
      headersTimeoutSeconds: 30,
      inspectionConcurrency: 2,
      inspectionQueue: 64,
      requestTimeoutSeconds: 3600,
      uploadIdleTimeoutSeconds: 30,
      orphanGraceSeconds: 600,
      orphanSweepIntervalSeconds: 300,
      shutdownTimeoutSeconds: 25,
      resumableExpirySeconds: 86_400,
      resumableLockWaitSeconds: 5,
      webConcurrency: 1,
    });
  });

  test('when API_KEYS lists bare keys, then they are kept as a frozen list without spaces or repeats, named after their hash', () => {
    const config = loadConfig({ API_KEYS: 'first-key-0123456789 , second-key-abcdefghij,first-key-0123456789' });

    expect(config.apiKeys).toEqual([
      { name: derivedKeyName('first-key-0123456789'), key: 'first-key-0123456789', admin: false },
      { name: derivedKeyName('second-key-abcdefghij'), key: 'second-key-abcdefghij', admin: false },
    ]);
    expect(config.apiKeys.map(({ name }) => name)).toEqual([expect.stringMatching(/^key-[0-9a-f]{12}$/), expect.stringMatching(/^key-[0-9a-f]{12}$/)]);
    expect(Object.isFrozen(config.apiKeys)).toBe(true);
  });

  test('when API_KEYS names its keys and ADMIN_API_KEYS lists more, then each key keeps its name, and one name may hold two keys', () => {
    const config = loadConfig({
      API_KEYS: 'alice:first-key-0123456789,alice:rotated-key-0123456789,bob:second-key-abcdefghij',
      ADMIN_API_KEYS: 'ops:admin-key-0123456789',
    });

    expect(config.apiKeys).toEqual([
      { name: 'alice', key: 'first-key-0123456789', admin: false },
      { name: 'alice', key: 'rotated-key-0123456789', admin: false },
      { name: 'bob', key: 'second-key-abcdefghij', admin: false },
      { name: 'ops', key: 'admin-key-0123456789', admin: true },
    ]);
  });

  test.each([
    ['one key under two names', { API_KEYS: 'alice:first-key-0123456789,bob:first-key-0123456789' }],
    ['a key both in API_KEYS and ADMIN_API_KEYS', { API_KEYS: 'first-key-0123456789', ADMIN_API_KEYS: 'first-key-0123456789' }],
  ])('when there is %s, then start-up stops without printing the key', (_, environment) => {
    const load = () => loadConfig(environment);

    expect(load).toThrow('Invalid configuration: API_KEYS must not give one key two names, nor list a key of ADMIN_API_KEYS');
    expect(load).not.toThrow('first-key-0123456789');
  });

  test('when VARIANT_SIZES and PRESETS are set, then sizes are sorted without repeats and presets parsed', () => {
    const config = loadConfig({ VARIANT_SIZES: '300, 100,200,100', PRESETS: 'square:w=150,h=150,fit=cover' });

    expect(config.variantSizes).toEqual([100, 200, 300]);
    expect(Object.isFrozen(config.variantSizes)).toBe(true);
    expect(Object.keys(config.presets)).toEqual(['square']);
  });

  test.each([
    ['VARIANT_SIZES', '64,0'],
    ['VARIANT_SIZES', '64,wide'],
    ['VARIANT_SIZES', '20000'],
    ['PRESETS', 'thumb:w=200,fit=squash'],
    ['PRESETS', 'thumb'],
  ])('when %s is %s, then start-up stops naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(`Invalid configuration: ${variable}`);
  });

  test('when REQUIRE_SIGNED_URLS is true without SIGNING_KEY, then start-up stops', () => {
    expect(() => loadConfig({ REQUIRE_SIGNED_URLS: 'true' })).toThrow('Invalid configuration: REQUIRE_SIGNED_URLS needs SIGNING_KEY');
  });

  test('when SIGNING_KEY is too short, then start-up stops without printing it', () => {
    const load = () => loadConfig({ SIGNING_KEY: 'short-secret' });

    expect(load).toThrow('Invalid configuration: SIGNING_KEY must be at least 32 printable ASCII characters');
    expect(load).not.toThrow('short-secret');
  });

  test('when UPLOAD_RATE_LIMIT and TRUST_PROXY are set, then they are parsed as numbers', () => {
    expect(loadConfig({ UPLOAD_RATE_LIMIT: '0', TRUST_PROXY: '2' })).toMatchObject({ uploadRateLimit: 0, trustProxy: 2 });
  });

  test.each([
    ['a key that is too short', 'short-key', 'key 1 of 1'],
    ['a key with a space', 'first-key-0123456789,second key abcdefghij', 'key 2 of 2'],
    ['an empty key', 'first-key-0123456789,,second-key-abcdefghij', 'key 2 of 3'],
    ['a key with a non-ASCII character', 'clé-secrète-0123456789', 'key 1 of 1'],
    ['a name with a key too short', 'alice:short-key', 'key 1 of 1'],
  ])('when API_KEYS has %s, then start-up stops naming the key by position, never by value', (_, value, position) => {
    const load = () => loadConfig({ API_KEYS: value });

    expect(load).toThrow(
      `Invalid configuration: API_KEYS ${position} must be at least 16 printable ASCII characters, without spaces or commas`,
    );
    for (const key of value.split(',').filter((part) => part !== '')) {
      expect(load).not.toThrow(key);
    }
  });

  test('when MONGODB_URI is invalid, then its value, which may hold a password, is not echoed', () => {
    expect(() => loadConfig({ MONGODB_URI: 'user:s3cret-password@db.internal' })).toThrow(
      /^Invalid configuration: MONGODB_URI must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string$/,
    );
  });

  test('when values are set, then they are parsed into their types', () => {
    const config = loadConfig({
      PORT: '8080',
      MONGODB_URI: 'mongodb://db.internal:27017/images',
      MAX_FILE_SIZE: '1048576',
      MAX_FILES: '3',
      BUCKET_NAME: 'photos',
      ALLOWED_TYPES: 'PNG, jpeg,png, bmp',
      MAX_PIXELS: '1000000',
      DEDUP: 'true',
      STRIP_METADATA: 'true',
      CACHE_TTL: '5',
      WRITE_CONCERN: '1',
      READ_PREFERENCE: 'secondaryPreferred',
      HEADERS_TIMEOUT: '10',
      REQUEST_TIMEOUT: '7200',
      UPLOAD_IDLE_TIMEOUT: '60',
      ORPHAN_GRACE: '1',
      ORPHAN_SWEEP_INTERVAL: '2',
      SHUTDOWN_TIMEOUT: '0',
      WEB_CONCURRENCY: '4',
      API_KEY_FAILURE_LIMIT: '0',
    });

    expect(config).toMatchObject({
      port: 8080,
      mongodbUri: 'mongodb://db.internal:27017/images',
      maxFileSize: 1048576,
      maxFiles: 3,
      bucketName: 'photos',
      allowedTypes: ['png', 'jpeg', 'bmp'],
      maxPixels: 1_000_000,
      dedup: true,
      stripMetadata: true,
      cacheTtlSeconds: 5,
      writeConcern: 1,
      readPreference: 'secondaryPreferred',
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 7200,
      uploadIdleTimeoutSeconds: 60,
      orphanGraceSeconds: 1,
      orphanSweepIntervalSeconds: 2,
      shutdownTimeoutSeconds: 0,
      webConcurrency: 4,
      apiKeyFailureLimit: 0,
    });
  });

  test('when CORS_ORIGINS lists origins, then they are kept as a list', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
  });

  test('when CORS_UPLOAD_ORIGINS lists origins, then they are kept as a list without repeats', () => {
    expect(loadConfig({ CORS_UPLOAD_ORIGINS: 'https://app.example, http://localhost:5173,https://app.example' }).corsUploadOrigins).toEqual([
      'https://app.example',
      'http://localhost:5173',
    ]);
  });

  test('when a value is blank, then the default applies', () => {
    expect(loadConfig({ PORT: '', MONGODB_URI: '  ' })).toMatchObject({ port: 3000, mongodbUri: undefined });
  });

  test('when loaded, then the config cannot be changed', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  test.each([
    ['PORT', 'abc', /^Invalid configuration: PORT must be a whole number between 0 and 65535 \(got "abc"\)$/],
    ['PORT', '70000', /^Invalid configuration: PORT must be at most 65535/],
    ['MAX_FILES', '0', /^Invalid configuration: MAX_FILES must be at least 1/],
    ['MAX_FILE_SIZE', '10MB', /^Invalid configuration: MAX_FILE_SIZE must be a whole number/],
    ['MONGODB_URI', 'localhost:27017', /^Invalid configuration: MONGODB_URI must be a mongodb:\/\//],
    ['BUCKET_NAME', 'my images', /^Invalid configuration: BUCKET_NAME must be 1 to 64 letters/],
    ['LOG_LEVEL', 'loud', /^Invalid configuration: LOG_LEVEL /],
    ['CACHE_MAX_BYTES', '-1', /^Invalid configuration: CACHE_MAX_BYTES must be a whole number/],
    ['ALLOWED_TYPES', 'png,svg', /^Invalid configuration: ALLOWED_TYPES must be a comma-separated list of: jpeg, png, gif, webp, avif, bmp, tiff, ico /],
    ['LOG_FORMAT', 'xml', /^Invalid configuration: LOG_FORMAT must be auto, json or pretty/],
    ['CACHE_TTL', '-1', /^Invalid configuration: CACHE_TTL must be a whole number/],
    ['WRITE_CONCERN', 'all', /^Invalid configuration: WRITE_CONCERN must be majority or a number/],
    ['READ_PREFERENCE', 'any', /^Invalid configuration: READ_PREFERENCE must be primary, primaryPreferred/],
    ['MAX_PIXELS', '0', /^Invalid configuration: MAX_PIXELS must be at least 1/],
    ['DEDUP', 'yes', /^Invalid configuration: DEDUP must be true or false/],
    ['STRIP_METADATA', '1', /^Invalid configuration: STRIP_METADATA must be true or false/],
    ['CORS_ORIGINS', 'example.com', /^Invalid configuration: CORS_ORIGINS must be \* or a comma-separated list/],
    ['CORS_UPLOAD_ORIGINS', '*', /^Invalid configuration: CORS_UPLOAD_ORIGINS must be a comma-separated list of origins/],
    ['CORS_UPLOAD_ORIGINS', 'https://app.example/', /^Invalid configuration: CORS_UPLOAD_ORIGINS must be a comma-separated list of origins/],
    ['CORS_UPLOAD_ORIGINS', 'https://app.example,ftp://files.example', /^Invalid configuration: CORS_UPLOAD_ORIGINS must be/],
    ['UPLOAD_RATE_LIMIT', '-5', /^Invalid configuration: UPLOAD_RATE_LIMIT must be a whole number between 0 and 1000000 \(got "-5"\)$/],
    ['TRUST_PROXY', 'true', /^Invalid configuration: TRUST_PROXY must be a whole number between 0 and 10/],
    ['UPLOAD_IDLE_TIMEOUT', '0', /^Invalid configuration: UPLOAD_IDLE_TIMEOUT must be at least 1/],
    ['REQUEST_TIMEOUT', '1.5', /^Invalid configuration: REQUEST_TIMEOUT must be a whole number/],
    ['ORPHAN_GRACE', '0', /^Invalid configuration: ORPHAN_GRACE must be at least 1/],
    ['ORPHAN_SWEEP_INTERVAL', '90000', /^Invalid configuration: ORPHAN_SWEEP_INTERVAL must be at most 86400/],
  ])('when %s is %p, then start-up stops with one line naming it', (variable, value, message) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(message);
  });

  test('when HEADERS_TIMEOUT is longer than REQUEST_TIMEOUT, then start-up stops with one line naming it', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT: '120', REQUEST_TIMEOUT: '60' })).toThrow(
      'Invalid configuration: HEADERS_TIMEOUT must not be more than REQUEST_TIMEOUT (got "120")',
    );
  });
});
