import { createHash, randomUUID, type Hash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import { ObjectId } from 'mongodb';
import { mayTouch, type Caller } from '../../core/caller';
import type { PendingWrites } from '../../core/pending-writes';
import { AppError, isRefusal } from '../../core/app-error';
import type { Clock } from '../../core/clock';
import { judgeHead, type ContentRules } from '../../media/content-rules';
import { MissingChunksError } from '../../storage/gridfs/chunk-stream';
import { inspectHead, type HeadInspection } from '../../media/image-inspection';
import type { ImageService, UploadLedger, WrittenUpload } from '../image-service';
import { receiveChunks, type ChunkSink } from './chunk-receiver';
import type { UploadStateDocument, UploadStateRepository } from '../../storage/upload-state-repository';

/**
 * A power of two, unlike GridFS's default of 255 KiB: clients send PATCHes of whole MiBs
 * (tus-js-client and Uppy users pick 1, 5 or 8 MiB), which then end on a chunk boundary and
 * leave no partial chunk to read back and rewrite.
 */
export const RESUMABLE_CHUNK_SIZE = 256 * 1024;

/** How long a lease holds unless renewed: as long as a crashed instance can keep an upload busy. */
const LEASE_MS = 30_000;

/** How long a termination waits for a PATCH on this instance to stop before it answers 423. */
const STOP_WAIT_MS = 5_000;

/** The stored offset is written, and the lease renewed, at most this often while bytes arrive. */
const CHECKPOINT_EVERY_MS = 1000;

/** The parts of a finished upload its state document tells. */
type UploadFacts = Pick<WrittenUpload, 'id' | 'filename' | 'length' | 'chunkSize' | 'owner'>;

/** Hash states kept in memory for uploads that are resumed on this instance. */
const HASHES_KEPT = 10_000;

export interface ResumableUploadOptions extends ContentRules {
  readonly expirySeconds: number;
  /** What the expiry is measured by. */
  readonly clock: Clock;
}

export interface NewResumableUpload {
  readonly id: string;
  readonly length: number;
  readonly filename: string;
  readonly metadata: string | null;
  /** The name of the key that creates it, whose image it becomes; undefined when no key is configured. */
  readonly owner: string | undefined;
}

export interface ResumableUploadState {
  readonly id: string;
  readonly length: number;
  readonly offset: number;
  readonly metadata: string | null;
  readonly createdAt: Date;
  /** The image the upload became, once finished. */
  readonly imageId: string | undefined;
  /** Past RESUMABLE_EXPIRY since its creation, now: it answers 410 as @tus/server would. */
  readonly expired: boolean;
}

export interface ResumableUploads {
  readonly expiryMs: number;
  /** Resolves to when the upload was created, by the clock its expiry is measured by. */
  create(upload: NewResumableUpload): Promise<Date>;
  find(id: string): Promise<ResumableUploadState>;
  /** Resolves if the caller may touch the upload; `upload-not-found` if there is none or it is another key's. */
  authorize(id: string, caller: Caller): Promise<void>;
  /**
   * Stores a PATCH's bytes from `offset`; once the last byte is in, checks the content and makes
   * it an image. Resolves to the new offset; rejects with the refusal when the content is refused.
   */
  receive(id: string, offset: number, body: AsyncIterable<unknown>): Promise<number>;
  /** Removes an unfinished upload's state and chunks at once. */
  terminate(id: string): Promise<void>;
  /** Removes the unfinished uploads past their expiry; resolves to how many. */
  removeExpired(): Promise<number>;
}

const notFound = (id: string) => new AppError('upload-not-found', `There is no upload with id ${id}.`);

function parseUploadId(id: string): ObjectId {
  if (!/^[0-9a-f]{24}$/.test(id)) throw notFound(id);
  return new ObjectId(id);
}

function toState(document: UploadStateDocument, expired: boolean): ResumableUploadState {
  return {
    id: document._id.toHexString(),
    length: document.length,
    offset: document.offset,
    metadata: document.metadata,
    createdAt: document.createdAt,
    imageId: document.imageId?.toHexString(),
    expired,
  };
}

/** What this instance saw of an upload's bytes go by, good for as long as the stored offset is `offset`. */
interface SeenBytes {
  readonly offset: number;
  readonly hash: Hash;
  /** What the first chunk showed, once it was whole (or was the whole upload). */
  readonly head: HeadInspection | undefined;
}

/**
 * The offset recorded for an upload that is not finished: never its whole length, which would
 * tell the client it is done. All bytes stored but no image yet: the client sends the last chunk again.
 */
function unfinishedOffset(stored: number, state: UploadStateDocument): number {
  return stored < state.length ? stored : Math.floor((state.length - 1) / state.chunkSize) * state.chunkSize;
}

class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

const leaseLostOn = (oid: ObjectId) => new LeaseLostError(`lost the lease on upload ${oid.toHexString()}`);

export function createResumableUploads(
  states: UploadStateRepository,
  images: ImageService,
  writes: Pick<PendingWrites, 'track'>,
  options: ResumableUploadOptions,
): ResumableUploads {
  const { clock } = options;
  const expiryMs = options.expirySeconds * 1000;
  /**
   * Node's hashes cannot be saved to the database. While an upload's PATCHes keep reaching this
   * instance, its SHA-256 and the verdict on its first chunk are carried from one to the next
   * here; when one reaches another instance, or this one restarted, the stored bytes are read
   * once more at the end instead (on FerretDB, that read costs more than the upload itself).
   */
  const seenBytes = new LRUCache<string, SeenBytes>({ max: HASHES_KEPT, ttl: expiryMs });
  /**
   * PATCHes writing on this instance, by upload id. A termination stops the one it finds and
   * waits for it to let go of the lease, so that a client cancelling its own upload (abort the
   * PATCH, then DELETE) is answered at once rather than with 423 until the server notices.
   */
  const writers = new Map<string, { readonly stop: () => void; readonly ended: Promise<unknown> }>();

  async function claim(oid: ObjectId, holder: string): Promise<UploadStateDocument> {
    const claimed = await states.claim(oid, holder, new Date(Date.now() + LEASE_MS));
    if (claimed) return claimed;
    if (!(await states.find(oid))) throw notFound(oid.toHexString());
    throw new AppError('upload-locked', 'Another request is writing this upload; try again once it has ended.', {
      headers: { 'Retry-After': '1' },
    });
  }

  function resumeSeen(id: string, offset: number): Pick<SeenBytes, 'hash' | 'head'> | undefined {
    if (offset === 0) return { hash: createHash('sha256'), head: undefined };
    const kept = seenBytes.get(id);
    seenBytes.delete(id);
    return kept?.offset === offset ? kept : undefined;
  }

  interface Sink extends ChunkSink {
    readonly received: () => number;
    readonly head: () => HeadInspection | undefined;
  }

  function sinkFor(oid: ObjectId, holder: string, length: number, seen: Pick<SeenBytes, 'hash' | 'head'> | undefined, stopped: AbortSignal): Sink {
    let lastCheckpoint = Date.now();
    let leaseLost = false;
    let received = 0;
    let head = seen?.head;
    const hash = seen?.hash;
    return {
      received: () => received,
      head: () => head,
      readStored: async (n, length) => (await states.readChunk(oid, n)).subarray(0, length),
      put: async (n, data, replacing, stored) => {
        if (stopped.aborted) throw notFound(oid.toHexString());
        if (leaseLost) throw leaseLostOn(oid);
        if (Date.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
          lastCheckpoint = Date.now();
          leaseLost = !(await states.checkpoint(oid, holder, stored, new Date(lastCheckpoint + LEASE_MS)));
          if (leaseLost) throw leaseLostOn(oid);
        }
        await states.putChunk(oid, n, data, replacing);
        if (seen && n === 0 && (data.length === RESUMABLE_CHUNK_SIZE || data.length === length)) {
          const inspection = inspectHead(data, data.length === length);
          head = inspection.kind === 'need-more-bytes' ? undefined : inspection;
        }
      },
      seen: (part) => {
        if (stopped.aborted) throw notFound(oid.toHexString());
        received += part.length;
        hash?.update(part);
      },
    };
  }

  function ledgerOf(state: UploadStateDocument, holder: string): UploadLedger {
    const { _id: oid, length } = state;
    return {
      earlierCopyId: state.copyId?.toHexString(),
      recordCopy: async (copyId) => {
        if (!(await states.recordCopy(oid, holder, new ObjectId(copyId)))) throw leaseLostOn(oid);
      },
      settle: (image) => states.finish(oid, holder, length, new ObjectId(image.id)),
    };
  }

  async function finish(state: UploadStateDocument, holder: string, seen: Omit<WrittenUpload, keyof UploadFacts>): Promise<number> {
    const { _id: oid, length, chunkSize, filename, owner } = state;
    try {
      await images.adopt({ id: oid.toHexString(), filename, length, chunkSize, owner, ...seen }, ledgerOf(state, holder));
      return length;
    } catch (error) {
      if (error instanceof MissingChunksError && error.fileId === oid.toHexString()) {
        // Terminated or expired by a request that found the lease lapsed while this finish ran long.
        await states.remove(oid);
        throw notFound(oid.toHexString());
      }
      if (isRefusal(error)) {
        await states.remove(oid);
      } else {
        await states.release(oid, holder, unfinishedOffset(length, state)).catch(() => undefined);
      }
      throw error;
    }
  }

  async function receive(id: string, offset: number, body: AsyncIterable<unknown>): Promise<number> {
    const oid = parseUploadId(id);
    const holder = randomUUID();
    const state = await claim(oid, holder);
    if (state.imageId || state.offset !== offset) {
      await states.release(oid, holder, state.offset);
      if (state.imageId) return state.offset;
      throw new AppError('upload-offset-mismatch', `The upload has ${state.offset} bytes stored, not ${offset}.`);
    }
    const stopping = new AbortController();
    const receiving = receiveClaimed(state, holder, body, stopping.signal);
    writers.set(id, { stop: () => stopping.abort(), ended: receiving.catch(() => undefined) });
    try {
      return await receiving;
    } finally {
      writers.delete(id);
    }
  }

  async function receiveClaimed(state: UploadStateDocument, holder: string, body: AsyncIterable<unknown>, stopped: AbortSignal): Promise<number> {
    const { _id: oid, offset } = state;
    const id = oid.toHexString();
    const seen = resumeSeen(id, offset);
    const sink = sinkFor(oid, holder, state.length, seen, stopped);
    const { stored, failure } = await receiveChunks(body, offset, state.chunkSize, sink);
    if (seen) seenBytes.set(id, { offset: offset + sink.received(), hash: seen.hash, head: sink.head() });
    if (failure === undefined && stored === state.length) {
      seenBytes.delete(id);
      return finish(state, holder, { sha256: seen?.hash.digest('hex'), head: sink.head() });
    }
    if (!(failure instanceof LeaseLostError)) await states.release(oid, holder, unfinishedOffset(stored, state));
    if (failure instanceof Error) throw failure;
    if (failure !== undefined) throw new Error('receiving the upload failed', { cause: failure });
    return stored;
  }

  async function create(upload: NewResumableUpload): Promise<Date> {
    if (upload.length === 0) {
      const verdict = judgeHead(inspectHead(Buffer.alloc(0), true), upload.filename, options);
      if (verdict instanceof AppError) throw verdict;
    }
    const createdAt = new Date(clock());
    await states.create({
      _id: parseUploadId(upload.id),
      length: upload.length,
      offset: 0,
      chunkSize: RESUMABLE_CHUNK_SIZE,
      filename: upload.filename,
      metadata: upload.metadata,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + expiryMs),
      ...(upload.owner === undefined ? {} : { owner: upload.owner }),
    });
    return createdAt;
  }

  async function find(id: string): Promise<ResumableUploadState> {
    const state = await states.find(parseUploadId(id));
    if (!state) throw notFound(id);
    return toState(state, clock() > state.createdAt.getTime() + expiryMs);
  }

  /** An admin, or anyone when no key is configured, needs no look: tus answers a missing upload itself. */
  async function authorize(id: string, caller: Caller): Promise<void> {
    if (caller.admin) return;
    const state = await states.find(parseUploadId(id));
    if (!state || !mayTouch(caller, state.owner)) throw notFound(id);
  }

  async function stopWriter(id: string): Promise<void> {
    const writer = writers.get(id);
    if (!writer) return;
    writer.stop();
    await Promise.race([writer.ended, delay(STOP_WAIT_MS, undefined, { ref: false })]);
  }

  async function terminate(id: string): Promise<void> {
    const oid = parseUploadId(id);
    await stopWriter(id);
    const holder = randomUUID();
    const state = await claim(oid, holder);
    if (state.imageId) {
      await states.release(oid, holder, state.offset);
      throw new AppError('upload-finished', 'The upload is finished: delete its image at its X-Image-Url instead.');
    }
    seenBytes.delete(id);
    await states.remove(oid);
  }

  async function removeExpired(): Promise<number> {
    const expired = await states.findExpired(new Date(clock()));
    for (const oid of expired) await states.remove(oid);
    return expired.length;
  }

  return {
    expiryMs,
    create: (upload) => writes.track(() => create(upload)),
    find,
    authorize,
    receive: (id, offset, body) => writes.track(() => receive(id, offset, body)),
    terminate: (id) => writes.track(() => terminate(id)),
    removeExpired,
  };
}
