import { pino, type DestinationStream, type Logger } from 'pino';
import { ConfigError, type Config } from './config';

export type { Logger };

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
];

/** pino-pretty is a development dependency: a production install has none, and logs JSON. */
function prettyPrinterInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

function wantsPrettyLines(format: Config['logFormat']): boolean {
  if (format === 'json') return false;
  if (format === 'auto') return process.stdout.isTTY && prettyPrinterInstalled();
  if (!prettyPrinterInstalled()) {
    throw new ConfigError('Invalid configuration: LOG_FORMAT pretty needs pino-pretty, a development dependency (run npm install)');
  }
  return true;
}

/** Logs JSON lines for log systems; with `destination`, into it (the tests read their logs so). */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: SECRET_PATHS, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  if (wantsPrettyLines(config.logFormat)) return pino({ ...options, transport: { target: 'pino-pretty' } });
  return pino(options);
}
