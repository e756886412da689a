import { once, EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * The shutdown barrier: the writes under way in this process, originals, variants and
 * resumable uploads alike. The process owns one and hands it to whatever writes; shutdown
 * closes the database connection only once it has settled, so that no write is cut halfway.
 */
export interface PendingWrites {
  /** Counts one write as under way; call the returned function, once or more, when it is over. */
  begin(): () => void;
  /** Counts `write` as under way until it settles. */
  track<T>(write: () => Promise<T>): Promise<T>;
  /** Resolves once no write is under way. */
  settled(): Promise<void>;
}

export function createPendingWrites(): PendingWrites {
  let count = 0;
  const events = new EventEmitter();

  function begin(): () => void {
    count += 1;
    let over = false;
    return () => {
      if (over) return;
      over = true;
      count -= 1;
      if (count === 0) events.emit('settled');
    };
  }

  async function track<T>(write: () => Promise<T>): Promise<T> {
    const over = begin();
    try {
      return await write();
    } finally {
      over();
    }
  }

  async function settled(): Promise<void> {
    // One write often starts as the previous one's promise resolves, a few microtasks after
    // the count touched zero: only a count still zero on the next turn means it is all over.
    do {
      if (count > 0) await once(events, 'settled');
      await nextTurn();
    } while (count > 0);
  }

  return { begin, track, settled };
}
