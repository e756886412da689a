import { element, formatBytes } from './dom';

/** One file's line: its own progress bar, speed, cancel button, and how it ended. */
export interface UploadRow {
  progress(bytesUploaded: number, bytesTotal: number, startedAt: number): void;
  waitingForNetwork(): void;
  stored(): void;
  refused(detail: string): void;
  cancelled(): void;
}

export interface UploadList {
  add(name: string, cancel?: () => void): UploadRow;
}

export function createUploadList(list: HTMLUListElement): UploadList {
  return {
    add(name, cancel) {
      const bar = element('progress', { attributes: { max: '1', value: '0', 'aria-label': `Upload of ${name}` } });
      const status = element('span', { className: 'upload-status', text: 'Waiting' });
      const button = element('button', { className: 'upload-cancel', text: 'Cancel', attributes: { type: 'button', 'aria-label': `Cancel the upload of ${name}` } });
      const row = element('li', { className: 'upload' }, element('span', { className: 'upload-name', text: name }), bar, status);
      if (cancel) {
        button.addEventListener('click', cancel);
        row.append(button);
      }
      list.prepend(row);
      const end = (state: string, text: string) => {
        row.dataset.state = state;
        status.textContent = text;
        button.remove();
      };
      return {
        progress(bytesUploaded, bytesTotal, startedAt) {
          const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
          bar.max = bytesTotal;
          bar.value = bytesUploaded;
          row.dataset.state = 'uploading';
          status.textContent = `${formatBytes(bytesUploaded)} of ${formatBytes(bytesTotal)}, ${formatBytes(bytesUploaded / seconds)}/s`;
        },
        waitingForNetwork() {
          row.dataset.state = 'waiting';
          status.textContent = 'Connection lost: resumes when it is back';
        },
        stored() {
          bar.value = bar.max;
          end('stored', 'Stored');
        },
        refused(detail) {
          bar.remove();
          end('refused', `Refused: ${detail}`);
        },
        cancelled() {
          end('cancelled', 'Cancelled');
        },
      };
    },
  };
}
