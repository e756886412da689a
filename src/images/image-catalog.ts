import { AppError } from '../errors/app-error';
import type { StoredVariant, VariantRepository } from '../variants/variant-repository';
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
  /** Oldest first. */
  readonly variants: readonly StoredVariant[];
}

/** What the people running the service do with stored images: look one up, page through all, delete. */
export interface ImageCatalog {
  describe(id: string): Promise<ImageDetails>;
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

export function createImageCatalog(
  repository: ImageRepository,
  reader: ImageReader,
  cache: Pick<ImageCache, 'forget'>,
  variants: Pick<VariantRepository, 'listOf' | 'removeAllOf'>,
): ImageCatalog {
  async function list(limit: number, after?: ListPosition): Promise<ImagePage> {
    const found = await repository.list(limit + 1, after);
    const images = found.slice(0, limit);
    const last = images.at(-1);
    const next = found.length > limit && last ? { uploadDate: last.uploadDate, id: last.id } : undefined;
    return { images, next };
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

  async function describe(id: string): Promise<ImageDetails> {
    const image = await reader.find(id);
    return { image, variants: await variants.listOf(id) };
  }

  return { describe, list, remove };
}
