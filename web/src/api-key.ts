import { required } from './dom';

/**
 * The API key, kept in this tab's sessionStorage only: it goes out in an Authorization header,
 * never in a URL, and is gone when the tab closes.
 */

const STORAGE_KEY = 'image-api-key';

export interface ApiKeyPrompt {
  /** Headers for a write: the key when one is saved. */
  authorization(): Record<string, string>;
  hasKey(): boolean;
  /** Shows the key field with why it is asked for, and moves focus to it. */
  ask(reason: string): void;
}

function savedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function createApiKeyPrompt(
  form: HTMLFormElement,
  onChange: (hasKey: boolean) => void,
): ApiKeyPrompt {
  const input = required('api-key', HTMLInputElement);
  const reason = form.querySelector<HTMLElement>('.key-reason');
  const saved = form.querySelector<HTMLElement>('.key-saved');
  const forget = form.querySelector<HTMLButtonElement>('.key-forget');

  const showState = () => {
    const hasKey = savedKey() !== null;
    if (saved) saved.hidden = !hasKey;
    if (forget) forget.hidden = !hasKey;
    onChange(hasKey);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    sessionStorage.setItem(STORAGE_KEY, key);
    input.value = '';
    if (reason) reason.textContent = '';
    showState();
  });
  forget?.addEventListener('click', () => {
    sessionStorage.removeItem(STORAGE_KEY);
    showState();
    input.focus();
  });

  return {
    authorization: () => {
      const key = savedKey();
      return key === null ? {} : { Authorization: `Bearer ${key}` };
    },
    hasKey: () => savedKey() !== null,
    ask: (why) => {
      form.hidden = false;
      if (reason) reason.textContent = why;
      showState();
      input.focus();
    },
  };
}
