import { ApiProblem, deleteImage, fetchInfo, type ClientSettings, type ImageInfo } from './api';
import type { ApiKeyPrompt } from './api-key';
import { element, formatBytes, required } from './dom';
import { imgSnippet } from './srcset';

export interface ImageDialogParts {
  readonly dialog: HTMLDialogElement;
  readonly settings: ClientSettings;
  readonly apiKey: ApiKeyPrompt;
  readonly onDeleted: (image: ImageInfo) => void;
}

export interface ImageDialog {
  open(image: ImageInfo): void;
}

function infoRows(image: ImageInfo): [string, string][] {
  return [
    ['Type', image.contentType],
    ['Dimensions', image.width !== null && image.height !== null ? `${image.width} × ${image.height} pixels` : 'unknown'],
    ['Size', formatBytes(image.size)],
    ['Uploaded', new Date(image.uploadDate).toLocaleString()],
  ];
}

/** One image full size with its info, the copy buttons and delete, in a modal `<dialog>` (focus kept inside, Escape closes). */
export function createImageDialog({ dialog, settings, apiKey, onDeleted }: ImageDialogParts): ImageDialog {
  const title = required('dialog-title', HTMLHeadingElement);
  const picture = required('dialog-picture', HTMLElement);
  const info = required('dialog-info', HTMLDListElement);
  const status = required('dialog-status', HTMLElement);
  let current: ImageInfo | undefined;

  const show = (image: ImageInfo) => {
    current = image;
    title.textContent = image.filename;
    info.replaceChildren(...infoRows(image).flatMap(([term, value]) => [element('dt', { text: term }), element('dd', { text: value })]));
  };

  const absoluteUrl = (image: ImageInfo) => `${location.origin}${image.url}`;

  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = `${what} copied.`;
    } catch {
      status.textContent = `${what} could not be copied here: ${text}`;
    }
  };

  const copyUrl = required('copy-url', HTMLButtonElement);
  const copySnippet = required('copy-snippet', HTMLButtonElement);
  // Unsigned URLs would be refused; the page holds no signing key to make others.
  copyUrl.hidden = settings.signedUrlsRequired;
  copySnippet.hidden = settings.signedUrlsRequired;
  copyUrl.addEventListener('click', () => {
    if (current) void copy('URL', absoluteUrl(current));
  });
  copySnippet.addEventListener('click', () => {
    if (current) void copy('<img> tag', imgSnippet(location.origin, { ...current, alt: current.filename }, settings.variantSizes));
  });
  required('close-dialog', HTMLButtonElement).addEventListener('click', () => dialog.close());
  required('delete-image', HTMLButtonElement).addEventListener('click', () => {
    const image = current;
    if (!image || !confirm(`Delete ${image.filename}? This cannot be undone.`)) return;
    status.textContent = 'Deleting…';
    deleteImage(image.id, apiKey.authorization()).then(
      () => {
        dialog.close();
        onDeleted(image);
      },
      (error: unknown) => {
        const detail = error instanceof Error ? error.message : String(error);
        status.textContent = `Not deleted: ${detail}`;
        if (error instanceof ApiProblem && error.wantsApiKey) {
          dialog.close();
          apiKey.ask(detail);
        }
      },
    );
  });

  return {
    open(image) {
      show(image);
      status.textContent = '';
      picture.replaceChildren(
        settings.signedUrlsRequired
          ? element('p', { text: 'This server serves images at signed URLs only (REQUIRE_SIGNED_URLS): sign one with POST /image/:id/sign.' })
          : element('img', {
              attributes: {
                src: image.url,
                alt: image.filename,
                ...(image.width !== null && image.height !== null ? { width: String(image.width), height: String(image.height) } : {}),
              },
            }),
      );
      dialog.showModal();
      // The listing may be a while old: the info is asked again, and shown as it is now.
      fetchInfo(image.id, apiKey.authorization()).then(show, (error: unknown) => {
        status.textContent = error instanceof Error ? error.message : String(error);
      });
    },
  };
}
