import { isDatabaseUnavailable } from '../database/database-errors';
import type { Logger } from '../core/logger';

export interface RunningSweeper {
  /** Stops the schedule, and a sweep under way at its next check; resolves once that sweep has ended. */
  stop(): Promise<void>;
}

export interface PeriodicSweep<Removed> {
  /** One sweep now; while one is under way, that one's result. Never rejects. */
  sweep(): Promise<Removed[]>;
  /** Sweeps now, then `intervalSeconds` after each sweep ends, so that sweeps never overlap. */
  start(): RunningSweeper;
}

export interface PeriodicSweepOptions<Removed> {
  /** Names the sweep in its log lines. */
  readonly name: string;
  readonly logger: Logger;
  readonly intervalSeconds: number;
  /** One sweep; it asks `isStopped` between removals and ends early when told to. */
  readonly run: (isStopped: () => boolean) => Promise<Removed[]>;
}

/**
 * The schedule every sweep shares. Failures are logged and the next sweep tries again: a
 * database that is away now is no reason to stop the process.
 */
export function createPeriodicSweep<Removed>(options: PeriodicSweepOptions<Removed>): PeriodicSweep<Removed> {
  const { name, logger, intervalSeconds, run } = options;
  let running: Promise<Removed[]> | undefined;
  let stopped = false;

  async function sweepOnce(): Promise<Removed[]> {
    try {
      return await run(() => stopped);
    } catch (error) {
      const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
      logger[level]({ err: error }, `${name} failed; the next one runs in ${intervalSeconds} s`);
      return [];
    } finally {
      running = undefined;
    }
  }

  function sweep(): Promise<Removed[]> {
    running ??= sweepOnce();
    return running;
  }

  function start(): RunningSweeper {
    stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const loop = () => {
      void sweep().then(() => {
        // Never the reason the process stays up.
        if (!stopped) timer = setTimeout(loop, intervalSeconds * 1000).unref();
      });
    };
    loop();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    };
  }

  return { sweep, start };
}
