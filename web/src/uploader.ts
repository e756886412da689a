import Uppy, { type Body, type Meta, type Processor, type UppyFile } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
import XHRUpload from '@uppy/xhr-upload';
import type { ClientSettings } from './api';
import { problemDetail } from './api';
import type { ApiKeyPrompt } from './api-key';
import { formatBytes } from './dom';
import type { UploadList, UploadRow } from './upload-list';

/** Larger files go through tus in chunks of this size and survive a dropped connection; smaller ones in one POST. */
export const RESUMABLE_FROM_BYTES = 5 * 1024 * 1024;

/** Long enough to ride out a phone changing networks; while the browser says it is offline, tus waits for it instead. */
const TUS_RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10_000, 20_000];

type File = UppyFile<Meta, Body>;

/**
 * Uppy gives every file to every uploader plugin (transloadit/uppy#4604 asks for a choice), so
 * each of ours is installed with an uploader that sees only the files it `takes`.
 */
function installFor(uppy: Uppy<Meta, Body>, takes: (file: File) => boolean, install: () => void): void {
  const addUploader = uppy.addUploader.bind(uppy);
  uppy.addUploader = (upload: Processor) => {
    addUploader((fileIDs, uploadID) => upload(fileIDs.filter((id) => takes(uppy.getFile(id))), uploadID));
  };
  try {
    install();
  } finally {
    uppy.addUploader = addUploader;
  }
}

const isResumable = (file: File) => (file.size ?? 0) > RESUMABLE_FROM_BYTES;

/** The request that failed: XHRUpload reports the XMLHttpRequest itself, tus wraps it in `body.xhr`. */
function failedRequest(response: unknown): XMLHttpRequest | undefined {
  if (response instanceof XMLHttpRequest) return response;
  if (typeof response !== 'object' || response === null || !('body' in response)) return undefined;
  const { body } = response;
  if (typeof body === 'object' && body !== null && 'xhr' in body && body.xhr instanceof XMLHttpRequest) return body.xhr;
  return undefined;
}

export interface UploaderParts {
  readonly target: HTMLElement;
  /** Says what may be uploaded; the Dashboard shows its own note only when it is tall. */
  readonly note: HTMLElement;
  readonly settings: ClientSettings;
  readonly apiKey: ApiKeyPrompt;
  readonly list: UploadList;
  /** After each batch, with how many files were stored. */
  readonly onBatchDone: (stored: number, refused: number) => void;
}

export interface Uploader {
  /** Uploads are refused by the page until a key is given, when the server needs one. */
  setEnabled(enabled: boolean): void;
}

function describeTypes(types: readonly string[]): string {
  return types.map((type) => type.replace(/^image\/(x-)?/, '').toUpperCase()).join(', ');
}

export function createUploader({ target, note, settings, apiKey, list, onBatchDone }: UploaderParts): Uploader {
  const uppy = new Uppy<Meta, Body>({
    autoProceed: true,
    restrictions: { maxFileSize: settings.maxFileSize, allowedFileTypes: [...settings.allowedTypes] },
  });
  uppy.use(Dashboard, {
    inline: true,
    target,
    width: '100%',
    height: 240,
    // The list of uploads beside it shows each file, so the Dashboard stays a drop zone and picker.
    showSelectedFiles: false,
    disableThumbnailGenerator: true,
    proudlyDisplayPoweredByUppy: false,
  });
  note.textContent = `${describeTypes(settings.allowedTypes)}, up to ${formatBytes(settings.maxFileSize)} each. Files over ${formatBytes(RESUMABLE_FROM_BYTES)} resume by themselves after a dropped connection.`;
  installFor(uppy, (file) => !isResumable(file), () =>
    uppy.use(XHRUpload, {
      endpoint: '/image/upload',
      fieldName: 'images',
      allowedMetaFields: [],
      limit: 3,
      headers: () => apiKey.authorization(),
      // A refusal is final; a lost connection or a database outage (503) is worth another try.
      shouldRetry: (xhr) => xhr.status === 0 || xhr.status === 503,
    }),
  );
  installFor(uppy, isResumable, () =>
    uppy.use(Tus, {
      endpoint: '/image/uploads',
      chunkSize: RESUMABLE_FROM_BYTES,
      limit: 3,
      retryDelays: TUS_RETRY_DELAYS_MS,
      allowedMetaFields: ['name'],
      removeFingerprintOnSuccess: true,
      headers: () => apiKey.authorization(),
    }),
  );

  const rows = new Map<string, UploadRow>();
  const finished = new Set<string>();
  uppy.on('file-added', (file) => {
    rows.set(file.id, list.add(file.name, () => uppy.removeFile(file.id)));
  });
  uppy.on('restriction-failed', (file, error) => {
    list.add(file?.name ?? 'A file').refused(error.message);
  });
  uppy.on('upload-progress', (file, progress) => {
    if (file && progress.bytesTotal !== null) rows.get(file.id)?.progress(progress.bytesUploaded, progress.bytesTotal, progress.uploadStarted);
  });
  uppy.on('upload-success', (file) => {
    if (file) rows.get(file.id)?.stored();
  });
  uppy.on('upload-error', (file, error, response) => {
    if (!file) return;
    const request = failedRequest(response);
    const detail = request?.status ? problemDetail(request.responseText) : undefined;
    rows.get(file.id)?.refused(detail ?? (request?.status === 0 ? 'The connection to the server failed.' : error.message));
    if (request && (request.status === 401 || request.status === 403)) apiKey.ask(detail ?? 'This server needs an API key.');
  });
  uppy.on('file-removed', (file) => {
    if (!finished.has(file.id)) rows.get(file.id)?.cancelled();
    rows.delete(file.id);
  });
  // Only tus uploads wait for the network; a multipart one is retried a few times, then refused.
  window.addEventListener('offline', () => {
    for (const file of uppy.getFiles()) {
      if (isResumable(file) && file.progress.uploadStarted && !file.progress.uploadComplete && !file.error) {
        rows.get(file.id)?.waitingForNetwork();
      }
    }
  });
  // Finished files leave Uppy, so that the same file may be dropped again; their lines stay.
  uppy.on('complete', ({ successful = [], failed = [] }) => {
    for (const file of [...successful, ...failed]) {
      finished.add(file.id);
      uppy.removeFile(file.id);
    }
    onBatchDone(successful.length, failed.length);
  });

  return {
    setEnabled(enabled) {
      uppy.getPlugin('Dashboard')?.setOptions({ disabled: !enabled });
    },
  };
}
