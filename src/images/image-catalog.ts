import { mayTouch, type Caller } from '../core/caller';
import { AppError } from '../core/app-error';
import type { StoredVariant, VariantPosition, VariantRepository } from '../storage/variant-repository';
import type { ImageCache } from '../storage/image-cache';
import type { ImageReader } from '../storage/image-reader';
import type { ImageRecord, ImageRepository, ListPosition } from '../storage/image-repository';
import { validatorsOf } from '../delivery/delivery-headers';
import { failedWriteCondition, isConditional, type Conditions } from '../delivery/read-plan';

export interface ImagePage {
  readonly images: readonly ImageRecord[];
  /** Where the next page starts; undefined on the last page. */
  readonly next: ListPosition | undefined;
}

export interface ImageDetails {
  readonly image: ImageRecord;
  /** A page of them, oldest first. */
  readonly variants: readonly StoredVariant[];
  /** Where the next page of variants starts; undefined on the last page. */
  readonly next: VariantPosition | undefined;
}

/**
 * What the people running the service do with stored images: look one up, page through them,
 * delete. A caller sees only the images it may touch (its own, or all for an admin); any other
 * is `image-not-found`, as if it did not exist.
 */
export interface ImageCatalog {
  /** The image's record; `image-not-found` when there is none. */
  find(id: string, caller: Caller): Promise<ImageRecord>;
  /** The image and a page of its variants, oldest first, by upload date and key as the listing goes. */
  describe(id: string, caller: Caller, limit: number, after?: VariantPosition): Promise<ImageDetails>;
  /**
   * Newest first. Paging goes by upload date and id, never by offset, so images uploaded while
   * a client pages land before its first page: none is skipped or shown twice.
   */
  list(caller: Caller, limit: number, after?: ListPosition): Promise<ImagePage>;
  /**
   * The file and its chunks are gone once this resolves, then its variants, and this
   * instance's cache has let go of them all. Refused with `precondition-failed`, and nothing
   * removed, when `conditions` (If-Match, If-Unmodified-Since, If-None-Match) do not hold for it.
   */
  remove(id: string, caller: Caller, conditions?: Conditions): Promise<void>;
}

const imageNotFound = (id: string) => new AppError('image-not-found', `There is no image with id ${id}.`);

/** The first `limit` of what was found, one more asked to know whether a page follows; `last` only then. */
function pageOf<T>(found: readonly T[], limit: number): { page: readonly T[]; last: T | undefined } {
  const page = found.slice(0, limit);
  return { page, last: found.length > limit ? page.at(-1) : undefined };
}

export function createImageCatalog(
  repository: ImageRepository,
  reader: ImageReader,
  cache: Pick<ImageCache, 'forget'>,
  variants: Pick<VariantRepository, 'listOf' | 'removeAllOf'>,
): ImageCatalog {
  async function find(id: string, caller: Caller): Promise<ImageRecord> {
    const image = await reader.find(id);
    if (!mayTouch(caller, image.owner)) throw imageNotFound(id);
    return image;
  }

  async function list(caller: Caller, limit: number, after?: ListPosition): Promise<ImagePage> {
    const owner = caller.admin ? undefined : caller.owner;
    const { page: images, last } = pageOf(await repository.list(limit + 1, after, owner), limit);
    return { images, next: last && { uploadDate: last.uploadDate, id: last.id } };
  }

  /** An image that is not the caller's is not found, whatever the conditions say (RFC 9110, 13.2.1). */
  async function checkBeforeRemoval(id: string, caller: Caller, conditions: Conditions): Promise<void> {
    const image = await find(id, caller);
    const failed = failedWriteCondition(conditions, validatorsOf(image));
    if (failed !== undefined) throw new AppError('precondition-failed', `${failed} does not hold for this image: it is not deleted.`);
  }

  /**
   * The original goes first, so that its variants stop being served before they go. An image's
   * owner never changes, and neither do its bytes and so its ETag: checking both before the
   * removal leaves no gap another could use.
   */
  async function remove(id: string, caller: Caller, conditions: Conditions = {}): Promise<void> {
    // An admin also clears the variants of an original that is gone, as before owners.
    if (!caller.admin || isConditional(conditions)) await checkBeforeRemoval(id, caller, conditions);
    try {
      const deleted = await repository.delete(id);
      for (const key of await variants.removeAllOf(id)) cache.forget(key);
      if (!deleted) throw imageNotFound(id);
    } finally {
      cache.forget(id);
    }
  }

  async function describe(id: string, caller: Caller, limit: number, after?: VariantPosition): Promise<ImageDetails> {
    const image = await find(id, caller);
    const { page, last } = pageOf(await variants.listOf(id, limit + 1, after), limit);
    return { image, variants: page, next: last && { uploadDate: last.record.uploadDate, params: last.params } };
  }

  return { find, describe, list, remove };
}
