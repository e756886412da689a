import { once, EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface PendingWrites {
  /** Counts one write as under way; call the returned function, once or more, when it is over. */
  begin(): () => void;
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

  async function settled(): Promise<void> {
    // One write often starts as the previous one's promise resolves, a few microtasks after
    // the count touched zero: only a count still zero on the next turn means it is all over.
    do {
      if (count > 0) await once(events, 'settled');
      await nextTurn();
    } while (count > 0);
  }

  return { begin, settled };
}

/** Uploads this process is writing; each is a pending write until it is released. */
export interface OpenUploads {
  add(id: string): void;
  has(id: string): boolean;
  /** The upload is finished, or its removal has begun. */
  release(id: string): void;
}

export function createOpenUploads(writes: PendingWrites): OpenUploads {
  const open = new Map<string, () => void>();
  return {
    add: (id) => open.set(id, writes.begin()),
    has: (id) => open.has(id),
    release: (id) => {
      open.get(id)?.();
      open.delete(id);
    },
  };
}
