import { createLogger, type Logger } from '../../src/core/logger';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export const LEVEL = { info: 30, warn: 40, error: 50 } as const;

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line so far, parsed; the array grows as the app logs. */
  readonly lines: LogLine[];
  /** Everything logged so far, exactly as written. */
  readonly output: () => string;
}

/** The app's own logger at its most talkative, writing into memory instead of stdout. */
export function captureLogs(): CapturedLogs {
  const written: string[] = [];
  const lines: LogLine[] = [];
  const logger = createLogger({ logLevel: 'trace', logFormat: 'json' }, {
    write: (line: string) => {
      written.push(line);
      lines.push(JSON.parse(line) as LogLine);
    },
  });
  return { logger, lines, output: () => written.join('') };
}

/** The JSON log lines in a process's output, each read as the caller's shape of a line. */
export function parseLogLines<Line>(output: string): Line[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}
