import { AppError } from './app-error';

/** The 24 hex digits of a MongoDB ObjectId. A plain pattern: this runs on every read. */
export const IMAGE_ID = /^[0-9a-f]{24}$/i;

/** The start of what the client sent, enough to recognise it without echoing a flood back. */
function quoteStart(value: string): string {
  const shown = Array.from(value).slice(0, 40).join('');
  return shown.length < value.length ? `"${shown}…"` : `"${value}"`;
}

export function parseImageId(value: string): string {
  if (!IMAGE_ID.test(value)) {
    throw new AppError('invalid-id', `${quoteStart(value)} is not an image id: ids are 24 hexadecimal digits.`);
  }
  return value.toLowerCase();
}
