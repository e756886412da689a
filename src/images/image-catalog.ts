import { AppError } from '../errors/app-error';
import type { StoredVariant, VariantPosition, VariantRepository } from '../variants/variant-repository';
import type { ImageCache } from './image-cache';
import type { ImageReader } from './image-reader';
import type { ImageRecord, ImageRepository, ListPosition } from './image-repository';

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

/** What the people running the service do with stored images: look one up, page through all, delete. */
export interface ImageCatalog {
  /** The image's record; `image-not-found` when there is none. */
  find(id: string): Promise<ImageRecord>;
  /** The image and a page of its variants, oldest first, by upload date and key as the listing goes. */
  describe(id: string, limit: number, after?: VariantPosition): Promise<ImageDetails>;
  /**
   * Newest first. Paging goes by upload date and id, never by offset, so images uploaded while
   * a client pages land before its first page: none is skipped or shown twice.
   */
  list(limit: number, after?: ListPosition): Promise<ImagePage>;
  /**
   * The file and its chunks are gone once this resolves, then its variants, and this
   * instance's cache has let go of them all.
   */
  remove(id: string): Promise<void>;
}

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
  async function list(limit: number, after?: ListPosition): Promise<ImagePage> {
    const { page: images, last } = pageOf(await repository.list(limit + 1, after), limit);
    return { images, next: last && { uploadDate: last.uploadDate, id: last.id } };
  }

  /** The original goes first, so that its variants stop being served before they go. */
  async function remove(id: string): Promise<void> {
    try {
      const deleted = await repository.delete(id);
      for (const key of await variants.removeAllOf(id)) cache.forget(key);
      if (!deleted) throw new AppError('image-not-found', `There is no image with id ${id}.`);
    } finally {
      cache.forget(id);
    }
  }

  async function describe(id: string, limit: number, after?: VariantPosition): Promise<ImageDetails> {
    const image = await reader.find(id);
    const { page, last } = pageOf(await variants.listOf(id, limit + 1, after), limit);
    return { image, variants: page, next: last && { uploadDate: last.record.uploadDate, params: last.params } };
  }

  return { find: (id) => reader.find(id), describe, list, remove };
}
