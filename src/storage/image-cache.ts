import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock';
import type { ImageRecord } from './image-repository';

export interface ImageCacheOptions {
  /** The budget for records and bodies together; 0 turns the cache off. */
  readonly maxBytes: number;
  /** Bodies larger than this are always streamed from the database. */
  readonly maxItemBytes: number;
  /** Entries older than this are looked up again; 0 keeps them until evicted. */
  readonly ttlSeconds: number;
  /** What the time to live is measured by. */
  readonly clock: Clock;
  /** Told of every lookup, for the hit and miss counts. */
  readonly onLookup?: (part: 'record' | 'body', hit: boolean) => void;
}

/** Hot images in memory, least recently used out first, sized by the bytes they hold. */
export interface ImageCache {
  readonly maxItemBytes: number;
  getRecord(id: string): ImageRecord | undefined;
  setRecord(record: ImageRecord): void;
  getBody(id: string): Buffer | undefined;
  setBody(id: string, body: Buffer): void;
  forget(id: string): void;
}

/** What a record costs beyond its file name: the object, its strings and the cache's own entry. */
const RECORD_OVERHEAD_BYTES = 512;

type Entry = ImageRecord | Buffer;

/**
 * A record is kept under its id as it is, so that the lookup before a 304 builds no string.
 * Ids are 24 hexadecimal digits, a variant's followed by its parameters, so no id begins
 * with `body:`.
 */
const bodyKey = (id: string) => `body:${id}`;

function sizeOf(entry: Entry): number {
  return Buffer.isBuffer(entry) ? entry.length : RECORD_OVERHEAD_BYTES + entry.filename.length * 2;
}

export function createImageCache(options: ImageCacheOptions): ImageCache {
  const onLookup = options.onLookup ?? (() => undefined);
  if (options.maxBytes === 0) {
    return {
      maxItemBytes: 0,
      getRecord: () => {
        onLookup('record', false);
        return undefined;
      },
      setRecord: () => undefined,
      getBody: () => {
        onLookup('body', false);
        return undefined;
      },
      setBody: () => undefined,
      forget: () => undefined,
    };
  }
  const entries = new LRUCache<string, Entry>({
    maxSize: options.maxBytes,
    sizeCalculation: sizeOf,
    ttl: options.ttlSeconds * 1000,
    perf: { now: options.clock },
    // Each lookup reads the clock: lru-cache would otherwise reuse a reading for a millisecond.
    ttlResolution: 0,
  });
  const maxItemBytes = Math.min(options.maxItemBytes, options.maxBytes);

  return {
    maxItemBytes,
    getRecord: (id) => {
      const entry = entries.get(id);
      const record = entry && !Buffer.isBuffer(entry) ? entry : undefined;
      onLookup('record', record !== undefined);
      return record;
    },
    setRecord: (record) => entries.set(record.id, record),
    getBody: (id) => {
      const entry = entries.get(bodyKey(id));
      const body = Buffer.isBuffer(entry) ? entry : undefined;
      onLookup('body', body !== undefined);
      return body;
    },
    setBody: (id, body) => {
      if (body.length <= maxItemBytes) entries.set(bodyKey(id), body);
    },
    forget: (id) => {
      entries.delete(id);
      entries.delete(bodyKey(id));
    },
  };
}
