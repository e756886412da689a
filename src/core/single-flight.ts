import { shareWork, type SharedWork } from './shared-work';

/** Starts the work for a key; `nobodyWaits` aborts once every waiter has left. */
export type StartWork<T> = (nobodyWaits: AbortSignal) => Promise<T>;

/**
 * One piece of work per key at a time in this process: whoever asks for a key while its work is
 * under way joins that work rather than doing the same again (the first reads of one image,
 * the first requests for one variant). Work that every waiter has left is abandoned, and the
 * next to ask starts afresh rather than join what nobody will finish.
 */
export interface SingleFlight<T> {
  /** The work under way for `key`, or `start`'s, begun now, when there is none or it was abandoned. */
  workFor(key: string, start: StartWork<T>): SharedWork<T>;
  /** Waits on the work for `key` to its end, or until `signal` aborts when one is given. */
  join(key: string, start: StartWork<T>, signal?: AbortSignal): Promise<T>;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const inFlight = new Map<string, SharedWork<T>>();

  function workFor(key: string, start: StartWork<T>): SharedWork<T> {
    const current = inFlight.get(key);
    if (current && !current.abandoned) return current;
    const work = shareWork(start);
    inFlight.set(key, work);
    void work.ended.then(() => {
      // Abandoned work may end after new work for its key began.
      if (inFlight.get(key) === work) inFlight.delete(key);
    });
    return work;
  }

  return {
    workFor,
    join: (key, start, signal) => workFor(key, start).join(signal),
  };
}
