import type { ObjectId } from 'mongodb';
import { AppError } from '../../core/app-error';
import type { Clock } from '../../core/clock';
import type { UploadStateDocument, UploadStateRepository } from '../../storage/upload-state-repository';
import type { ChunkSink } from './chunk-receiver';
import type { ByteWitness } from './seen-bytes';

/** The stored offset is written at most this often while bytes arrive. */
const CHECKPOINT_EVERY_MS = 1000;

export const uploadNotFound = (id: string) => new AppError('upload-not-found', `There is no upload with id ${id}.`);

export const offsetMismatch = (stored: number, offset: number) =>
  new AppError('upload-offset-mismatch', `The upload has ${stored} bytes stored, not ${offset}.`);

/** Where one PATCH's bytes go: the upload's chunks, and its offset in its state. */
export interface UploadSink extends ChunkSink {
  /** The offset last recorded in the upload's state. */
  recorded(): number;
  /** Records `offset`; rejects when another writer moved the recorded offset meanwhile, or the upload is gone. */
  record(offset: number): Promise<void>;
  /** Records the file a finish is about to copy the upload into, on the same terms; an internal error when it cannot. */
  recordCopy(copyId: ObjectId): Promise<void>;
}

/**
 * A sink for one PATCH from the upload's stored offset. It records the offset at least every
 * CHECKPOINT_EVERY_MS while chunks are written, each time over the one it recorded last: a
 * writer that lost its lock finds the offset moved and stops.
 */
export function openUploadSink(
  states: UploadStateRepository,
  state: UploadStateDocument,
  witness: ByteWitness | undefined,
  now: Clock,
): UploadSink {
  const { _id: oid } = state;
  let lastCheckpoint = now();
  let recorded = state.offset;
  let lost: AppError | undefined;

  const overtaken = async (offset: number) => {
    const current = await states.find(oid);
    return current ? offsetMismatch(current.offset, offset) : uploadNotFound(oid.toHexString());
  };
  const record = async (offset: number) => {
    if (lost) throw lost;
    if (!(await states.record(oid, recorded, offset))) throw (lost = await overtaken(offset));
    recorded = offset;
  };

  return {
    recorded: () => recorded,
    record,
    recordCopy: async (copyId) => {
      // Not a refusal of the content, which would remove the upload its new writer is writing.
      if (!(await states.recordCopy(oid, recorded, copyId))) throw new Error(`another request took upload ${oid.toHexString()} over`);
    },
    readStored: async (n, length) => (await states.readChunk(oid, n)).subarray(0, length),
    put: async (n, data, replacing, stored) => {
      if (lost) throw lost;
      if (now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
        lastCheckpoint = now();
        await record(stored);
      }
      await states.putChunk(oid, n, data, replacing);
      witness?.stored(n, data);
    },
    seen: (part) => witness?.saw(part),
  };
}
