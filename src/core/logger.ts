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
const SECRET_PARAMETER_NAME = /^(?:sig|signature|key|api[_-]?key|access[_-]?token|token|secret|password)$/i;

/** A name as a query parser reads it: `%73ig` is `sig`, and must be redacted as `sig` is. */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

function redactedParameter(parameter: string): string {
  const equals = parameter.indexOf('=');
  if (equals < 0 || !SECRET_PARAMETER_NAME.test(decodedName(parameter.slice(0, equals)))) return parameter;
  return `${parameter.slice(0, equals)}=[redacted]`;
}

/**
 * The URL with those parameters' values replaced, for whatever repeats a URL back (logs, the
 * problem `instance`): a valid signature or key must not travel further than the request did.
 */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const fragmentStart = url.indexOf('#', queryStart);
  const queryEnd = fragmentStart < 0 ? url.length : fragmentStart;
  const query = url.slice(queryStart + 1, queryEnd).split('&').map(redactedParameter).join('&');
  return `${url.slice(0, queryStart + 1)}${query}${url.slice(queryEnd)}`;
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
