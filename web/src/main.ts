import { fetchSettings, type ClientSettings } from './api';
import { createApiKeyPrompt } from './api-key';
import { required } from './dom';
import { createGallery } from './gallery';
import { createImageDialog } from './image-dialog';
import { createUploader } from './uploader';
import { createUploadList } from './upload-list';

function start(settings: ClientSettings): void {
  const announce = required('announcer', HTMLElement);
  const gallery = createGallery({
    list: required('gallery', HTMLUListElement),
    empty: required('gallery-empty', HTMLElement),
    status: required('gallery-status', HTMLElement),
    more: required('load-more', HTMLButtonElement),
    settings,
    // Without a key where one is needed, there is nobody whose images to show.
    authorization: () => (settings.apiKeyRequired && !apiKey.hasKey() ? undefined : apiKey.authorization()),
    open: (image) => dialog.open(image),
  });
  const apiKey = createApiKeyPrompt(required('key-form', HTMLFormElement), (hasKey) => {
    uploader.setEnabled(!settings.apiKeyRequired || hasKey);
    // Each key sees its own images.
    if (settings.apiKeyRequired) void gallery.reload();
  });
  const dialog = createImageDialog({
    dialog: required('image-dialog', HTMLDialogElement),
    settings,
    apiKey,
    onDeleted: (image) => {
      gallery.remove(image.id);
      announce.textContent = `${image.filename} deleted.`;
    },
  });
  const uploader = createUploader({
    target: required('uploader', HTMLElement),
    note: required('upload-note', HTMLElement),
    settings,
    apiKey,
    list: createUploadList(required('uploads', HTMLUListElement)),
    onBatchDone: (stored, refused) => {
      announce.textContent = `${stored} stored, ${refused} refused.`;
      if (stored > 0) void gallery.reload();
    },
  });
  if (settings.apiKeyRequired) {
    // Asking shows the key's state, which loads the gallery of a key already saved in this tab.
    apiKey.ask('This server needs an API key to upload, see and delete your images.');
  } else {
    void gallery.reload();
  }
}

fetchSettings().then(start, (error: unknown) => {
  required('announcer', HTMLElement).textContent = `The page could not start: ${error instanceof Error ? error.message : String(error)}`;
});
