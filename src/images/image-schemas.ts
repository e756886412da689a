import { z } from 'zod';
import { AppError } from '../errors/app-error';
import type { ImageDetails } from './image-catalog';
import type { ImageRecord, ListPosition } from './image-repository';

/** The 24 hex digits of a MongoDB ObjectId. A plain pattern: this runs on every read. */
const IMAGE_ID = /^[0-9a-f]{24}$/i;

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

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** A cursor is the position of the last image of a page: its upload time and id, opaque to clients. */
const cursorSchema = z.tuple([z.number().int().nonnegative(), z.string().regex(IMAGE_ID)]);

export function encodeCursor({ uploadDate, id }: ListPosition): string {
  return Buffer.from(JSON.stringify([uploadDate.getTime(), id])).toString('base64url');
}

function decodeCursor(cursor: string): ListPosition | undefined {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? { uploadDate: new Date(parsed.data[0]), id: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}

const listQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE))
    .default(DEFAULT_PAGE_SIZE),
  cursor: z.string().optional(),
});

export interface ListQuery {
  readonly limit: number;
  readonly after: ListPosition | undefined;
}

/** `?limit=&cursor=` of the listing; a repeated parameter counts as malformed. */
export function parseListQuery(query: unknown): ListQuery {
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new AppError('invalid-query', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, and cursor a value from "next".`);
  }
  const { limit, cursor } = parsed.data;
  if (cursor === undefined) return { limit, after: undefined };
  const after = decodeCursor(cursor);
  if (!after) {
    throw new AppError('invalid-query', 'cursor is not one this service handed out: pass the "next" of a listing as it is.');
  }
  return { limit, after };
}

/** What `GET /image/:id/info` and the listing say of an image. */
export function toImageInfo(image: ImageRecord) {
  return {
    id: image.id,
    filename: image.filename,
    contentType: image.contentType,
    size: image.size,
    width: image.width ?? null,
    height: image.height ?? null,
    sha256: image.sha256 ?? null,
    uploadDate: image.uploadDate.toISOString(),
    url: `/image/${image.id}`,
  };
}

/** What `GET /image/:id/info` says: the image, and the variants stored of it. */
export function toImageDetails({ image, variants }: ImageDetails) {
  return {
    ...toImageInfo(image),
    variants: variants.map(({ params, record }) => ({
      params,
      contentType: record.contentType,
      size: record.size,
      width: record.width ?? null,
      height: record.height ?? null,
      createdAt: record.uploadDate.toISOString(),
    })),
  };
}

const signRequestSchema = z.object({
  params: z.string().max(2000).default(''),
  expiresIn: z.number().int().min(1).max(10 * 365 * 24 * 3600).optional(),
});

export interface SignRequest {
  /** The read URL's query to sign, such as `w=300&format=webp`. */
  readonly params: string;
  /** Seconds the URL stays valid; absent: forever. */
  readonly expiresIn: number | undefined;
}

/** The JSON body of `POST /image/:id/sign`. */
export function parseSignRequest(body: unknown): SignRequest {
  const parsed = signRequestSchema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new AppError(
      'malformed-request',
      'The body must be JSON such as {"params": "w=300&format=webp", "expiresIn": 3600}: params a query string, expiresIn whole seconds.',
    );
  }
  return { params: parsed.data.params, expiresIn: parsed.data.expiresIn };
}
