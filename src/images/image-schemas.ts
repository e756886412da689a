import { AppError } from '../errors/app-error';

/** The 24 hex digits of a MongoDB ObjectId. A plain pattern: this runs on every read. */
const IMAGE_ID = /^[0-9a-f]{24}$/i;

export function parseImageId(value: string): string {
  if (!IMAGE_ID.test(value)) {
    throw new AppError('invalid-id', `"${value}" is not an image id: ids are 24 hexadecimal digits.`);
  }
  return value.toLowerCase();
}
