import { z } from 'zod';
import { AppError } from '../errors/app-error';

const imageIdSchema = z.string().regex(/^[0-9a-f]{24}$/i);

/** Ids are the 24 hex digits of a MongoDB ObjectId. */
export function parseImageId(value: unknown): string {
  const parsed = imageIdSchema.safeParse(value);
  if (!parsed.success) {
    throw new AppError('invalid-id', `"${String(value)}" is not an image id: ids are 24 hexadecimal digits.`);
  }
  return parsed.data.toLowerCase();
}
