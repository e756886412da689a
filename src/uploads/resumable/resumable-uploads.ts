import { ObjectId } from 'mongodb';
import { mayTouch, type Caller } from '../../core/caller';
import type { PendingWrites } from '../../core/pending-writes';
import { AppError, isRefusal } from '../../core/app-error';
import type { Clock } from '../../core/clock';
import { judgeHead, type ContentRules } from '../../media/content-rules';
import { MissingChunksError } from '../../storage/gridfs/chunk-stream';
import { inspectHead } from '../../media/image-inspection';
import type { ImageService, UploadLedger } from '../image-service';
import { receiveChunks, unfinishedOffset } from './chunk-receiver';
import type { UploadStateDocument, UploadStateRepository } from '../../storage/upload-state-repository';
import { createSeenBytes, type ByteWitness } from './seen-bytes';
import { offsetMismatch, openUploadSink, uploadNotFound, type UploadSink } from './upload-sink';

/**
 * A power of two, unlike GridFS's default of 255 KiB: clients send PATCHes of whole MiBs
 * (tus-js-client and Uppy users pick 1, 5 or 8 MiB), which then end on a chunk boundary and
 * leave no partial chunk to read back and rewrite.
 */
export const RESUMABLE_CHUNK_SIZE = 256 * 1024;

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
   * The caller holds the upload's lock.
   */
  receive(id: string, offset: number, body: AsyncIterable<unknown>): Promise<number>;
  /** Removes an unfinished upload's state and chunks at once. The caller holds the upload's lock. */
  terminate(id: string): Promise<void>;
  /** Removes the unfinished uploads past their expiry; resolves to how many. */
  removeExpired(): Promise<number>;
}

function parseUploadId(id: string): ObjectId {
  if (!/^[0-9a-f]{24}$/.test(id)) throw uploadNotFound(id);
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

export function createResumableUploads(
  states: UploadStateRepository,
  images: ImageService,
  writes: Pick<PendingWrites, 'track'>,
  options: ResumableUploadOptions,
): ResumableUploads {
  const { clock } = options;
  const expiryMs = options.expirySeconds * 1000;
  const seenBytes = createSeenBytes({ max: HASHES_KEPT, ttlMs: expiryMs });

  async function stateOf(oid: ObjectId): Promise<UploadStateDocument> {
    const state = await states.find(oid);
    if (!state) throw uploadNotFound(oid.toHexString());
    return state;
  }

  function ledgerOf(state: UploadStateDocument, sink: UploadSink): UploadLedger {
    return {
      earlierCopyId: state.copyId?.toHexString(),
      recordCopy: (copyId) => sink.recordCopy(new ObjectId(copyId)),
      settle: (image) => states.finish(state._id, state.length, new ObjectId(image.id)),
    };
  }

  async function finish(state: UploadStateDocument, sink: UploadSink, witness: ByteWitness | undefined): Promise<number> {
    const { _id: oid, length, chunkSize, filename, owner } = state;
    const seen = { sha256: witness?.digest(), head: witness?.head() };
    try {
      await images.adopt({ id: oid.toHexString(), filename, length, chunkSize, owner, ...seen }, ledgerOf(state, sink));
      return length;
    } catch (error) {
      if (error instanceof MissingChunksError && error.fileId === oid.toHexString()) {
        // Terminated or expired by a request that took the lock over while this finish's instance stalled past its lease.
        await states.remove(oid);
        throw uploadNotFound(oid.toHexString());
      }
      if (isRefusal(error)) {
        await states.remove(oid);
      } else {
        await sink.record(unfinishedOffset(length, length, chunkSize)).catch(() => undefined);
      }
      throw error;
    }
  }

  async function receive(id: string, offset: number, body: AsyncIterable<unknown>): Promise<number> {
    const state = await stateOf(parseUploadId(id));
    if (state.imageId) return state.offset;
    if (state.offset !== offset) throw offsetMismatch(state.offset, offset);
    const witness = seenBytes.resume(id, offset, state);
    const sink = openUploadSink(states, state, witness, clock);
    const { stored, failure } = await receiveChunks(body, offset, state.chunkSize, sink);
    if (failure === undefined && stored === state.length) {
      seenBytes.forget(id);
      return finish(state, sink, witness);
    }
    if (witness) seenBytes.keep(id, witness);
    try {
      await sink.record(unfinishedOffset(stored, state.length, state.chunkSize));
    } catch (error) {
      if (failure === undefined) throw error;
    }
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
    const state = await stateOf(parseUploadId(id));
    return toState(state, clock() > state.createdAt.getTime() + expiryMs);
  }

  /** An admin, or anyone when no key is configured, needs no look: tus answers a missing upload itself. */
  async function authorize(id: string, caller: Caller): Promise<void> {
    if (caller.admin) return;
    const state = await states.find(parseUploadId(id));
    if (!state || !mayTouch(caller, state.owner)) throw uploadNotFound(id);
  }

  async function terminate(id: string): Promise<void> {
    const oid = parseUploadId(id);
    if ((await stateOf(oid)).imageId) {
      throw new AppError('upload-finished', 'The upload is finished: delete its image at its X-Image-Url instead.');
    }
    seenBytes.forget(id);
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
