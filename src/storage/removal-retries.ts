import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger';
import { isDatabaseUnavailable } from '../database/database-errors';

/** Before each try: at once, then ever longer while a busy database catches up. */
const RETRY_DELAYS_MS = [0, 500, 2000, 8000];

export interface RemovalSubject {
  /** What the log lines call it: "an abandoned image". */
  readonly what: string;
  /** The fields that name it in the log lines: its id. */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Removes what a writer gave up on, and never fails. A busy database (FerretDB answers
 * SQLITE_BUSY under load) gets a few more tries; an unreachable one gets none, so that the
 * client's answer is not held up. What is left is logged with its id, and a sweep removes it later.
 */
export async function removeWithRetries(remove: () => Promise<void>, { what, fields }: RemovalSubject, logger: Logger): Promise<void> {
  for (const [attempt, delayMs] of RETRY_DELAYS_MS.entries()) {
    await sleep(delayMs);
    try {
      await remove();
      return;
    } catch (error) {
      const givingUp = isDatabaseUnavailable(error) || attempt === RETRY_DELAYS_MS.length - 1;
      logger.warn(
        { err: error, ...fields, attempt: attempt + 1 },
        givingUp ? `left ${what} in the database; a sweep removes it` : `could not remove ${what} yet`,
      );
      if (givingUp) return;
    }
  }
}
