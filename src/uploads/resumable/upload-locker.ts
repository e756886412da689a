import { randomUUID } from 'node:crypto';
import type { Lock, Locker, RequestRelease } from '@tus/utils';
import { AppError } from '../../core/app-error';
import type { Clock } from '../../core/clock';
import type { LockRepository } from '../../storage/lock-repository';

/** How long a lock holds without renewal: how long an instance that died keeps its uploads busy. */
const LEASE_MS = 30_000;

/** Leases are renewed this often, so that two renewals in a row may fail before one lapses. */
const RENEW_EVERY_MS = LEASE_MS / 3;

/**
 * How often a holder looks whether a request on another instance wants its lock, and a
 * waiter tries again: the most a stop across instances waits to be noticed.
 */
const LOOK_EVERY_MS = 200;

export interface UploadLockerOptions {
  /** How long a request waits for the holder to let go before it is answered 423. */
  readonly waitMs: number;
  /** The clock leases are told by; the instances' clocks must agree to well within LEASE_MS. */
  readonly clock: Clock;
}

/** A lock this instance holds, and how to ask its request to stop. */
interface Holding {
  readonly holder: string;
  readonly requestRelease: RequestRelease;
}

const busy = () =>
  new AppError('upload-locked', 'Another request is writing this upload; try again once it has ended.', {
    headers: { 'Retry-After': '1' },
  });

/**
 * @tus/server's `Locker` over MongoDB, for every instance on one database. @tus/server locks an
 * upload for each PATCH, HEAD and DELETE, and passes a `cancelReq` the holder's request stops
 * by: it stops reading the body, the store records what arrived, and the lock is let go.
 *
 * A request that finds the lock held asks the holder to let go: at once when the holder is on
 * this instance; otherwise by marking the lock document `wanted`, which the holder's instance
 * sees at its next look (every LOOK_EVERY_MS, one query for all the locks it holds). Polling,
 * not a change stream: the embedded FerretDB has none, and a look costs one read by `_id`.
 * The waiter tries again as often, and gives up with 423 after `waitMs`.
 */
export function createUploadLocker(locks: LockRepository, { waitMs, clock: now }: UploadLockerOptions): Locker {
  const held = new Map<string, Holding>();
  /** Requests on this instance waiting for a lock, woken as soon as its local holder lets go. */
  const waiting = new Map<string, Set<() => void>>();
  let looking: NodeJS.Timeout | undefined;
  let renewedAt = now();

  function askToLetGo(holding: Holding): void {
    // @tus/server's cancelReq only starts the stop; the holder's own unlock ends it.
    void Promise.resolve(holding.requestRelease()).catch(() => undefined);
  }

  async function look(): Promise<void> {
    // The locks held when the look began: each was taken before the read below is sent.
    const holdings = [...held.entries()];
    const ids = holdings.map(([id]) => id);
    if (now() - renewedAt >= RENEW_EVERY_MS) {
      renewedAt = now();
      await locks.renew(ids, holdings.map(([, holding]) => holding.holder), new Date(renewedAt + LEASE_MS));
    }
    const found = new Map((await locks.read(ids)).map((lock) => [lock.id, lock]));
    for (const [id, holding] of holdings) {
      // Let go meanwhile, and perhaps taken again by the next request: what was read is not about that one.
      if (held.get(id) !== holding) continue;
      const lock = found.get(id);
      // Wanted, or lost: its lease lapsed and another request took it, so it must stop writing.
      if (lock?.holder !== holding.holder || lock.wanted) askToLetGo(holding);
    }
  }

  function keepLooking(): void {
    if (looking !== undefined || held.size === 0) return;
    looking = setTimeout(() => {
      // The database away: the next look tries again, and the leases lapse if it stays away.
      void look()
        .catch(() => undefined)
        .finally(() => {
          looking = undefined;
          keepLooking();
        });
    }, LOOK_EVERY_MS);
    looking.unref();
  }

  /** Resolves after `ms`, or sooner when the lock's local holder lets go or the request is aborted. */
  function nextTry(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        waiting.get(id)?.delete(wake);
        if (waiting.get(id)?.size === 0) waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake);
      waiting.set(id, (waiting.get(id) ?? new Set()).add(wake));
    });
  }

  function hold(id: string, holding: Holding): void {
    // A holding of this instance whose lease lapsed before it noticed: it lost the lock.
    const lost = held.get(id);
    if (lost) askToLetGo(lost);
    held.set(id, holding);
    keepLooking();
  }

  function newLock(id: string): Lock {
    const holder = randomUUID();
    return {
      lock: async (signal, requestRelease) => {
        const deadline = now() + waitMs;
        for (;;) {
          if (await locks.take(id, holder, new Date(now()), new Date(now() + LEASE_MS))) {
            hold(id, { holder, requestRelease });
            return;
          }
          const local = held.get(id);
          if (local) askToLetGo(local);
          else await locks.want(id);
          const left = deadline - now();
          if (left <= 0 || signal.aborted) throw busy();
          await nextTry(id, Math.min(LOOK_EVERY_MS, left), signal);
        }
      },
      unlock: async () => {
        // No longer this instance's to renew or to stop, before the database hears it let go.
        if (held.get(id)?.holder === holder) held.delete(id);
        try {
          await locks.release(id, holder);
        } finally {
          for (const wake of waiting.get(id) ?? []) wake();
        }
      },
    };
  }

  return { newLock };
}
