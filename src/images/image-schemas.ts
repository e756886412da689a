import { z } from 'zod';
import { AppError } from '../core/app-error';
import type { ImageDetails } from './image-catalog';
import type { VariantPosition } from '../storage/variant-repository';
import type { ImageRecord, ListPosition } from '../storage/image-repository';
import { IMAGE_ID } from '../core/image-id';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * A cursor is the position of the last item of a page, opaque to clients: its upload time and
 * what breaks ties, an image's id or a variant's canonical parameters.
 */
type Cursor = readonly [uploadTime: number, tieBreak: string];

function encode([uploadTime, tieBreak]: Cursor): string {
  return Buffer.from(JSON.stringify([uploadTime, tieBreak])).toString('base64url');
}

export const encodeCursor = ({ uploadDate, id }: ListPosition): string => encode([uploadDate.getTime(), id]);
export const encodeVariantCursor = ({ uploadDate, params }: VariantPosition): string => encode([uploadDate.getTime(), params]);

/** Canonical parameters are short and made of these (see transformation-resolution.ts). */
const CANONICAL_PARAMS = /^[a-z0-9=&]{1,200}$/;

function cursorDecoder(tieBreak: RegExp): (cursor: string) => Cursor | undefined {
  const schema = z.tuple([z.number().int().nonnegative(), z.string().regex(tieBreak)]);
  return (cursor) => {
    try {
      const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
}

const decodeImageCursor = cursorDecoder(IMAGE_ID);
const decodeVariantCursor = cursorDecoder(CANONICAL_PARAMS);

const pageQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE))
    .default(DEFAULT_PAGE_SIZE),
  cursor: z.string().optional(),
});

export interface PageQuery<Position> {
  readonly limit: number;
  readonly after: Position | undefined;
}

/** `?limit=&cursor=` of a paged answer; a repeated parameter counts as malformed. */
function parsePageQuery<Position>(query: unknown, toPosition: (cursor: string) => Position | undefined): PageQuery<Position> {
  const parsed = pageQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new AppError('invalid-query', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, and cursor a value from "next".`);
  }
  const { limit, cursor } = parsed.data;
  if (cursor === undefined) return { limit, after: undefined };
  const after = toPosition(cursor);
  if (!after) {
    throw new AppError('invalid-query', 'cursor is not one this service handed out: pass the "next" of a page as it is.');
  }
  return { limit, after };
}

/** The listing's query. */
export function parseListQuery(query: unknown): PageQuery<ListPosition> {
  return parsePageQuery(query, (cursor) => {
    const decoded = decodeImageCursor(cursor);
    return decoded && { uploadDate: new Date(decoded[0]), id: decoded[1] };
  });
}

/** The query of `/info`, which pages the variants. */
export function parseVariantPageQuery(query: unknown): PageQuery<VariantPosition> {
  return parsePageQuery(query, (cursor) => {
    const decoded = decodeVariantCursor(cursor);
    return decoded && { uploadDate: new Date(decoded[0]), params: decoded[1] };
  });
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

/** What `GET /image/:id/info` says: the image, and a page of the variants stored of it. */
export function toImageDetails({ image, variants, next }: ImageDetails) {
  return {
    ...toImageInfo(image),
    next: next ? encodeVariantCursor(next) : null,
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

/** Ten years: longer is forever in all but name, which leaving out `expiresIn` says. */
export const MAX_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 3600;
/** Far more than any read query needs: a signature is not a place to store data. */
export const MAX_SIGNED_PARAMS_LENGTH = 2000;

const signRequestSchema = z.object({
  params: z.string().max(MAX_SIGNED_PARAMS_LENGTH).default(''),
  expiresIn: z.number().int().min(1).max(MAX_EXPIRES_IN_SECONDS).optional(),
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
