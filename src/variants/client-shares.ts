import { AppError } from '../core/app-error';

/**
 * Each client's share of the transformation queue: how many of its reads may wait on a variant
 * at once, so that one client cannot fill TRANSFORM_QUEUE for everyone else.
 */
export interface ClientShares {
  /**
   * Counts one more read of `client`; refuses with a 429 when it has its share already. The
   * returned function, called once, gives it back.
   */
  take(client: string): () => void;
}

/** As for a full queue: transformations take from milliseconds to seconds. */
const RETRY_AFTER_SECONDS = '1';

export function createClientShares(perClient: number): ClientShares {
  const taken = new Map<string, number>();

  function giveBack(client: string): void {
    const count = (taken.get(client) ?? 0) - 1;
    if (count <= 0) taken.delete(client);
    else taken.set(client, count);
  }

  return {
    take(client) {
      const count = taken.get(client) ?? 0;
      if (count >= perClient) {
        throw new AppError('too-many-transformations', `At most ${perClient} variants may be made for one client at once; try again shortly.`, {
          headers: { 'Retry-After': RETRY_AFTER_SECONDS },
        });
      }
      taken.set(client, count + 1);
      return () => giveBack(client);
    },
  };
}
