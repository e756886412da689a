import { createHash, type Hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { inspectHead, type HeadInspection } from '../../media/image-inspection';

/** The shape of the upload a witness watches. */
export interface WatchedUpload {
  readonly length: number;
  readonly chunkSize: number;
}

/**
 * What one PATCH sees of an upload's bytes go by, carried on from the PATCHes before it: the
 * hash of every byte from the upload's first, and the verdict on its first chunk once whole.
 */
export interface ByteWitness {
  /** Every byte, as it arrives. */
  saw(part: Uint8Array): void;
  /** Every chunk, as it is stored: the first is inspected once it is whole, or is the whole upload. */
  stored(n: number, data: Uint8Array): void;
  /** How far into the upload the bytes have been seen. */
  offset(): number;
  head(): HeadInspection | undefined;
  /** The SHA-256 of every byte seen; call once, when all of them were. */
  digest(): string;
  /** What is carried on to the upload's next PATCH. */
  carried(): Seen;
}

/** What a witness saw, from the upload's first byte to `offset`. */
export interface Seen {
  readonly offset: number;
  readonly hash: Hash;
  readonly head: HeadInspection | undefined;
}

function witness(upload: WatchedUpload, from: Seen): ByteWitness {
  let { offset, head } = from;
  const { hash } = from;
  return {
    saw: (part) => {
      offset += part.length;
      hash.update(part);
    },
    stored: (n, data) => {
      if (n !== 0 || (data.length !== upload.chunkSize && data.length !== upload.length)) return;
      const inspection = inspectHead(data, data.length === upload.length);
      head = inspection.kind === 'need-more-bytes' ? undefined : inspection;
    },
    offset: () => offset,
    head: () => head,
    digest: () => hash.digest('hex'),
    carried: () => ({ offset, hash, head }),
  };
}

export interface SeenBytes {
  /**
   * A witness for a PATCH from `offset`: a fresh one at 0, else what this instance saw of the
   * PATCHes before it when it saw every byte up to `offset`, else undefined (the bytes were sent
   * elsewhere, or this instance restarted). Taken out: a PATCH that fails carries nothing on.
   */
  resume(id: string, offset: number, upload: WatchedUpload): ByteWitness | undefined;
  /** Keeps what the witness saw, for the upload's next PATCH. */
  keep(id: string, seen: ByteWitness): void;
  forget(id: string): void;
}

/**
 * Node's hashes cannot be saved to the database: while an upload's PATCHes keep reaching this
 * instance, its hash and the verdict on its first chunk are carried from one to the next here,
 * bounded by count and age; otherwise the stored bytes are read once more at the end.
 */
export function createSeenBytes({ max, ttlMs }: { readonly max: number; readonly ttlMs: number }): SeenBytes {
  const kept = new LRUCache<string, Seen>({ max, ttl: ttlMs });
  return {
    resume: (id, offset, upload) => {
      if (offset === 0) return witness(upload, { offset, hash: createHash('sha256'), head: undefined });
      const earlier = kept.get(id);
      kept.delete(id);
      return earlier?.offset === offset ? witness(upload, earlier) : undefined;
    },
    keep: (id, seen) => {
      kept.set(id, seen.carried());
    },
    forget: (id) => {
      kept.delete(id);
    },
  };
}
