import type { PendingWrites } from '../../core/pending-writes';

/**
 * Uploads this process is writing: alive, however long since their last chunk (a slow client
 * can go longer than any grace between two chunks), and each a pending write until released.
 */
export interface OpenUploads {
  add(id: string): void;
  has(id: string): boolean;
  /** The upload is over: finished, claimed, or its removal has begun. */
  release(id: string): void;
}

export function createOpenUploads(writes: Pick<PendingWrites, 'begin'>): OpenUploads {
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
