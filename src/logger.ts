import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config';

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

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: SECRET_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
