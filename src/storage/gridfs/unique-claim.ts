import type { Collection, Filter, GridFSFile, ObjectId, OptionalUnlessRequiredId, WithId } from 'mongodb';
import { isDuplicateKey } from '../../database/database-errors';

/**
 * A key held by one file: its `_id` is the key, so that the `_id` index lets exactly one file
 * hold it across instances, on any database (no partial or extra unique index needed).
 */
export interface FileClaim {
  readonly _id: string;
  readonly fileId: ObjectId;
}

export interface ClaimCollections<Claim extends FileClaim> {
  readonly claims: Collection<Claim>;
  /** The files claims point to: a claim whose file is gone holds nothing. */
  readonly files: Collection<GridFSFile>;
}

/** Enough for a claim voided under a concurrent claimer, and not a loop should the database misbehave. */
const CLAIM_ATTEMPTS = 3;

const byId = <Claim extends FileClaim>(claim: Pick<Claim, '_id'>) => ({ _id: claim._id }) as Filter<Claim>;

/**
 * Makes `claim` the holder of its key, unless another file already holds it; resolves to the
 * holder, `claim` or the earlier one. The caller's file must be complete before it claims, so
 * that a holder is always readable.
 */
export async function claimUniqueId<Claim extends FileClaim>(
  { claims, files }: ClaimCollections<Claim>,
  claim: Claim,
): Promise<Claim | WithId<Claim>> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    try {
      await claims.insertOne(claim as OptionalUnlessRequiredId<Claim>);
      return claim;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const holder = await claims.findOne(byId(claim));
    if (holder && (await files.countDocuments({ _id: holder.fileId }, { limit: 1 })) > 0) return holder;
    // The holder's file is gone (removed by hand, or its removal was cut short): its claim is void.
    if (holder) await claims.deleteOne({ _id: holder._id, fileId: holder.fileId } as Filter<Claim>);
  }
  throw new Error(`could not settle which file holds ${claims.collectionName} ${claim._id}`);
}
