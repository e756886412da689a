import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { ConfigError } from './config-error';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerSettings {
  readonly logLevel: LevelWithSilent;
  readonly logFormat: LogFormat;
}

/**
 * API keys must never reach the logs: whatever logs a request, its headers or the config,
 * today or later, gets these paths censored.
 */
const SECRET_PATHS = [
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKeys',
  '*.apiKeys',
  'API_KEYS',
  '*.API_KEYS',
  'ADMIN_API_KEYS',
  '*.ADMIN_API_KEYS',
];

/**
 * Query parameters whose values are credentials: a read URL's signature, and the names people
 * give keys when they put them in a URL, which our API never asks them to.
 */
const SECRET_QUERY_PARAMETER = /([?&](?:sig|signature|key|api[_-]?key|access[_-]?token|token|secret|password)=)[^&#]*/gi;

/**
 * The URL with those parameters' values replaced, for whatever repeats a URL back (logs, the
 * problem `instance`): a valid signature or key must not travel further than the request did.
 */
export function redactUrl(url: string): string {
  return url.includes('?') ? url.replace(SECRET_QUERY_PARAMETER, '$1[redacted]') : url;
}

/** pino-pretty is a development dependency: a production install has none, and logs JSON. */
function prettyPrinterInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

function wantsPrettyLines(format: LogFormat): boolean {
  if (format === 'json') return false;
  if (format === 'auto') return process.stdout.isTTY && prettyPrinterInstalled();
  if (!prettyPrinterInstalled()) {
    throw new ConfigError('Invalid configuration: LOG_FORMAT pretty needs pino-pretty, a development dependency (run npm install)');
  }
  return true;
}

/** Logs JSON lines for log systems; with `destination`, into it (the tests read their logs so). */
export function createLogger(config: LoggerSettings, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: SECRET_PATHS, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  if (wantsPrettyLines(config.logFormat)) return pino({ ...options, transport: { target: 'pino-pretty' } });
  return pino(options);
}
