import { createHash, type Hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ObjectId } from 'mongodb';
import { mayTouch, type Caller } from '../../core/caller';
import { AppError, isRefusal } from '../../core/app-error';
import { judgeHead, type ContentRules } from '../../media/content-rules';
import { MissingChunksError } from '../../storage/gridfs/chunk-stream';
import { inspectHead, type HeadInspection } from '../../media/image-inspection';
import type { ImageRepository } from '../../storage/image-repository';
import type { ImageService, UploadLedger, WrittenUpload } from '../image-service';
import { receiveChunks, type ChunkSink } from './chunk-receiver';
import type { UploadStateDocument, UploadStateRepository } from '../../storage/upload-state-repository';

/**
 * A power of two, unlike GridFS's default of 255 KiB: clients send PATCHes of whole MiBs
 * (tus-js-client and Uppy users pick 1, 5 or 8 MiB), which then end on a chunk boundary and
 * leave no partial chunk to read back and rewrite.
 */
export const RESUMABLE_CHUNK_SIZE = 256 * 1024;

/** The stored offset is written at most this often while bytes arrive. */
const CHECKPOINT_EVERY_MS = 1000;

/** The parts of a finished upload its state document tells. */
type UploadFacts = Pick<WrittenUpload, 'id' | 'filename' | 'length' | 'chunkSize' | 'owner'>;

/** Hash states kept in memory for uploads that are resumed on this instance. */
const HASHES_KEPT = 10_000;

export interface ResumableUploadOptions extends ContentRules {
  readonly expirySeconds: number;
}

export interface NewResumableUpload {
  readonly id: string;
  readonly length: number;
  readonly filename: string;
  readonly metadata: string | null;
  readonly createdAt: Date;
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
}

export interface ResumableUploads {
  readonly expiryMs: number;
  create(upload: NewResumableUpload): Promise<void>;
  find(id: string): Promise<ResumableUploadState>;
  /** Resolves if the caller may touch the upload; `upload-not-found` if there is none or it is another key's. */
  authorize(id: string, caller: Caller): Promise<void>;
  /**
   * Stores a PATCH's bytes from `offset`; once the last byte is in, checks the content and makes
   * it an image. Resolves to the new offset; rejects with the refusal when the content is refused.
   * The caller holds the upload's lock.
   */
  receive(id: string, offset: number, body: AsyncIterable<unknown>): Promise<number>;
  /** Removes an unfinished upload's state and chunks at once. The caller holds the upload's lock. */
  terminate(id: string): Promise<void>;
  /** Removes the unfinished uploads past their expiry; resolves to how many. */
  removeExpired(): Promise<number>;
}

const notFound = (id: string) => new AppError('upload-not-found', `There is no upload with id ${id}.`);

function parseUploadId(id: string): ObjectId {
  if (!/^[0-9a-f]{24}$/.test(id)) throw notFound(id);
  return new ObjectId(id);
}

function toState(document: UploadStateDocument): ResumableUploadState {
  return {
    id: document._id.toHexString(),
    length: document.length,
    offset: document.offset,
    metadata: document.metadata,
    createdAt: document.createdAt,
    imageId: document.imageId?.toHexString(),
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

const offsetMismatch = (stored: number, offset: number) =>
  new AppError('upload-offset-mismatch', `The upload has ${stored} bytes stored, not ${offset}.`);

export function createResumableUploads(
  states: UploadStateRepository,
  images: ImageService,
  repository: Pick<ImageRepository, 'track'>,
  options: ResumableUploadOptions,
): ResumableUploads {
  const expiryMs = options.expirySeconds * 1000;
  /**
   * Node's hashes cannot be saved to the database. While an upload's PATCHes keep reaching this
   * instance, its SHA-256 and the verdict on its first chunk are carried from one to the next
   * here; when one reaches another instance, or this one restarted, the stored bytes are read
   * once more at the end instead (on FerretDB, that read costs more than the upload itself).
   */
  const seenBytes = new LRUCache<string, SeenBytes>({ max: HASHES_KEPT, ttl: expiryMs });

  async function stateOf(oid: ObjectId): Promise<UploadStateDocument> {
    const state = await states.find(oid);
    if (!state) throw notFound(oid.toHexString());
    return state;
  }

  /** Why an offset could not be recorded: another writer took the upload over, or it is gone. */
  async function overtaken(oid: ObjectId, offset: number): Promise<AppError> {
    const state = await states.find(oid);
    return state ? offsetMismatch(state.offset, offset) : notFound(oid.toHexString());
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
    /** The offset last recorded in the upload's state. */
    readonly recorded: () => number;
    /** Records `offset`; rejects when another writer moved the recorded offset meanwhile. */
    readonly record: (offset: number) => Promise<void>;
  }

  function sinkFor(state: UploadStateDocument, seen: Pick<SeenBytes, 'hash' | 'head'> | undefined): Sink {
    const { _id: oid, length } = state;
    let lastCheckpoint = Date.now();
    let recorded = state.offset;
    let lost: AppError | undefined;
    let received = 0;
    let head = seen?.head;
    const hash = seen?.hash;
    const record = async (offset: number) => {
      if (lost) throw lost;
      if (!(await states.record(oid, recorded, offset))) throw (lost = await overtaken(oid, offset));
      recorded = offset;
    };
    return {
      received: () => received,
      head: () => head,
      recorded: () => recorded,
      record,
      readStored: async (n, length) => (await states.readChunk(oid, n)).subarray(0, length),
      put: async (n, data, replacing, stored) => {
        if (lost) throw lost;
        if (Date.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
          lastCheckpoint = Date.now();
          await record(stored);
        }
        await states.putChunk(oid, n, data, replacing);
        if (seen && n === 0 && (data.length === RESUMABLE_CHUNK_SIZE || data.length === length)) {
          const inspection = inspectHead(data, data.length === length);
          head = inspection.kind === 'need-more-bytes' ? undefined : inspection;
        }
      },
      seen: (part) => {
        received += part.length;
        hash?.update(part);
      },
    };
  }

  function ledgerOf(state: UploadStateDocument, sink: Sink): UploadLedger {
    const { _id: oid, length } = state;
    return {
      earlierCopyId: state.copyId?.toHexString(),
      recordCopy: async (copyId) => {
        if (!(await states.recordCopy(oid, sink.recorded(), new ObjectId(copyId)))) throw await overtaken(oid, length);
      },
      settle: (image) => states.finish(oid, length, new ObjectId(image.id)),
    };
  }

  async function finish(state: UploadStateDocument, sink: Sink, seen: Omit<WrittenUpload, keyof UploadFacts>): Promise<number> {
    const { _id: oid, length, chunkSize, filename, owner } = state;
    try {
      await images.adopt({ id: oid.toHexString(), filename, length, chunkSize, owner, ...seen }, ledgerOf(state, sink));
      return length;
    } catch (error) {
      if (error instanceof MissingChunksError && error.fileId === oid.toHexString()) {
        // Terminated or expired by a request that took the lock over while this finish's instance stalled past its lease.
        await states.remove(oid);
        throw notFound(oid.toHexString());
      }
      if (isRefusal(error)) {
        await states.remove(oid);
      } else {
        await sink.record(unfinishedOffset(length, state)).catch(() => undefined);
      }
      throw error;
    }
  }

  async function receive(id: string, offset: number, body: AsyncIterable<unknown>): Promise<number> {
    const state = await stateOf(parseUploadId(id));
    if (state.imageId) return state.offset;
    if (state.offset !== offset) throw offsetMismatch(state.offset, offset);
    const seen = resumeSeen(id, offset);
    const sink = sinkFor(state, seen);
    const { stored, failure } = await receiveChunks(body, offset, state.chunkSize, sink);
    if (seen) seenBytes.set(id, { offset: offset + sink.received(), hash: seen.hash, head: sink.head() });
    if (failure === undefined && stored === state.length) {
      seenBytes.delete(id);
      return finish(state, sink, { sha256: seen?.hash.digest('hex'), head: sink.head() });
    }
    try {
      await sink.record(unfinishedOffset(stored, state));
    } catch (error) {
      if (failure === undefined) throw error;
    }
    if (failure instanceof Error) throw failure;
    if (failure !== undefined) throw new Error('receiving the upload failed', { cause: failure });
    return stored;
  }

  async function create(upload: NewResumableUpload): Promise<void> {
    if (upload.length === 0) {
      const verdict = judgeHead(inspectHead(Buffer.alloc(0), true), upload.filename, options);
      if (verdict instanceof AppError) throw verdict;
    }
    await states.create({
      _id: parseUploadId(upload.id),
      length: upload.length,
      offset: 0,
      chunkSize: RESUMABLE_CHUNK_SIZE,
      filename: upload.filename,
      metadata: upload.metadata,
      createdAt: upload.createdAt,
      expiresAt: new Date(upload.createdAt.getTime() + expiryMs),
      ...(upload.owner === undefined ? {} : { owner: upload.owner }),
    });
  }

  async function find(id: string): Promise<ResumableUploadState> {
    const state = await states.find(parseUploadId(id));
    if (!state) throw notFound(id);
    return toState(state);
  }

  /** An admin, or anyone when no key is configured, needs no look: tus answers a missing upload itself. */
  async function authorize(id: string, caller: Caller): Promise<void> {
    if (caller.admin) return;
    const state = await states.find(parseUploadId(id));
    if (!state || !mayTouch(caller, state.owner)) throw notFound(id);
  }

  async function terminate(id: string): Promise<void> {
    const oid = parseUploadId(id);
    if ((await stateOf(oid)).imageId) {
      throw new AppError('upload-finished', 'The upload is finished: delete its image at its X-Image-Url instead.');
    }
    seenBytes.delete(id);
    await states.remove(oid);
  }

  async function removeExpired(): Promise<number> {
    const expired = await states.findExpired(new Date());
    for (const oid of expired) await states.remove(oid);
    return expired.length;
  }

  return {
    expiryMs,
    create: (upload) => repository.track(() => create(upload)),
    find,
    authorize,
    receive: (id, offset, body) => repository.track(() => receive(id, offset, body)),
    terminate: (id) => repository.track(() => terminate(id)),
    removeExpired,
  };
}
