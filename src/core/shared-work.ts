/**
 * Work that several requests wait on (the first request for a variant, and those that came
 * while it was being made): it goes on while any of them still waits, and the signal it is
 * given aborts once the last has left, so that work nobody waits for is dropped.
 */
export interface SharedWork<T> {
  /**
   * The work's result, or its failure; rejects with the signal's reason as soon as `signal`
   * aborts, whatever the work does after. Without a signal, the waiter stays to the end.
   */
  join(signal?: AbortSignal): Promise<T>;
  /** Every request that joined has left: the work's signal aborted, and nobody may join again. */
  readonly abandoned: boolean;
  /** Settles when the work ends, kept or dropped, never rejecting. */
  readonly ended: Promise<void>;
}

/** Why a signal aborted, as an error: `abort()` without a reason gives a DOMException, an Error too. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted', { cause: reason });
}

export function shareWork<T>(work: (signal: AbortSignal) => Promise<T>): SharedWork<T> {
  const nobodyWaits = new AbortController();
  let waiting = 0;
  const result = work(nobodyWaits.signal);
  const ended = result.then(
    () => undefined,
    () => undefined,
  );

  function join(signal?: AbortSignal): Promise<T> {
    waiting += 1;
    if (!signal) return result;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        waiting -= 1;
        if (waiting === 0) nobodyWaits.abort(abortReason(signal));
        reject(abortReason(signal));
      };
      if (signal.aborted) {
        leave();
        return;
      }
      signal.addEventListener('abort', leave, { once: true });
      result.finally(() => signal.removeEventListener('abort', leave)).then(resolve, reject);
    });
  }

  return {
    join,
    get abandoned() {
      return nobodyWaits.signal.aborted;
    },
    ended,
  };
}
