import { createLogger, type Logger } from '../../src/logger';

export interface CapturedLogs {
  readonly logger: Logger;
  /** Everything logged so far, as written. */
  readonly output: () => string;
  /** Each line, parsed. */
  readonly entries: () => Record<string, unknown>[];
}

/** A logger at its most talkative, writing into memory instead of stdout. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const logger = createLogger({ logLevel: 'trace' }, { write: (line: string) => lines.push(line) });
  return {
    logger,
    output: () => lines.join(''),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
