import { fetchImages, type Authorization, type ClientSettings, type ImageInfo } from './api';
import { element } from './dom';
import { fallbackWidth, srcsetOf, variantUrl, variantWidths } from './srcset';

/** How wide a thumbnail is drawn, for `sizes`; the CSS grid keeps to it. */
const THUMBNAIL_SIZES = '(max-width: 30rem) 50vw, 12rem';
const THUMBNAIL_FALLBACK_WIDTH = 256;

export interface GalleryParts {
  readonly list: HTMLUListElement;
  readonly empty: HTMLElement;
  readonly status: HTMLElement;
  readonly more: HTMLButtonElement;
  readonly settings: ClientSettings;
  /** The saved key's header, if any: with API_KEYS, the gallery shows that key's images. */
  readonly authorization: () => Authorization | undefined;
  readonly open: (image: ImageInfo) => void;
}

export interface Gallery {
  /** Newest first, from the first page again. */
  reload(): Promise<void>;
  remove(id: string): void;
}

function thumbnail(image: ImageInfo, settings: ClientSettings): HTMLElement {
  if (settings.signedUrlsRequired) {
    return element('span', { className: 'tile-placeholder', text: 'No preview: this server serves signed URLs only' });
  }
  const widths = variantWidths(settings.variantSizes, image.width);
  const src = fallbackWidth(widths, THUMBNAIL_FALLBACK_WIDTH);
  const attributes: Record<string, string> = {
    src: src === undefined ? image.url : variantUrl('', image.id, src),
    alt: image.filename,
    loading: 'lazy',
    decoding: 'async',
  };
  if (widths.length > 0) {
    attributes.srcset = srcsetOf('', image, settings.variantSizes);
    attributes.sizes = THUMBNAIL_SIZES;
  }
  if (image.width !== null && image.height !== null) {
    attributes.width = String(image.width);
    attributes.height = String(image.height);
  }
  return element('img', { attributes });
}

export function createGallery({ list, empty, status, more, settings, authorization, open }: GalleryParts): Gallery {
  let cursor: string | null = null;
  // A reload started later wins over a page still arriving from an earlier one.
  let generation = 0;

  const showEmptiness = () => {
    empty.hidden = list.childElementCount > 0;
  };

  const append = (images: readonly ImageInfo[]) => {
    for (const image of images) {
      const tile = element(
        'button',
        { className: 'tile', attributes: { type: 'button', 'aria-label': `Open ${image.filename}` } },
        thumbnail(image, settings),
        element('span', { className: 'tile-name', text: image.filename }),
      );
      tile.addEventListener('click', () => open(image));
      list.append(element('li', { attributes: { 'data-id': image.id } }, tile));
    }
  };

  const load = async (from: string | null, replace: boolean) => {
    const mine = ++generation;
    const headers = authorization();
    if (headers === undefined) {
      list.replaceChildren();
      more.hidden = true;
      empty.hidden = true;
      status.textContent = 'Your images show here once you give your API key.';
      return;
    }
    status.textContent = 'Loading…';
    try {
      const page = await fetchImages(from, headers);
      if (mine !== generation) return;
      if (replace) list.replaceChildren();
      append(page.images);
      cursor = page.next;
      more.hidden = cursor === null;
      status.textContent = '';
    } catch (error) {
      if (mine === generation) status.textContent = `The gallery could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
    }
    showEmptiness();
  };

  more.addEventListener('click', () => void load(cursor, false));

  return {
    reload: () => load(null, true),
    remove(id) {
      list.querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
      showEmptiness();
    },
  };
}
