import { create as contentDisposition } from 'content-disposition';
import { imageTypes } from '../media/image-inspection';
import type { ImageRecord } from '../storage/image-repository';

/** A year, the most HTTP caches honour: ids never change their bytes. */
const MAX_AGE_SECONDS = 31_536_000;
const CACHE_CONTROL = `public, max-age=${MAX_AGE_SECONDS}, immutable`;

/**
 * The caching of an answer to a signed URL that expires at `expiresAt` (Unix seconds): no cache
 * may keep it, or serve it stale, past then, when the URL itself is refused.
 */
export function cacheUntil(expiresAt: number, nowSeconds: number): Readonly<Record<string, string>> {
  const maxAge = Math.max(0, Math.min(MAX_AGE_SECONDS, Math.floor(expiresAt - nowSeconds)));
  return { 'Cache-Control': `public, max-age=${maxAge}, must-revalidate` };
}
const MAX_FILENAME_LENGTH = 200;

export interface Validators {
  readonly etag: string;
  readonly lastModified: string;
}

/** Strong, since the bytes of an id never change; from the content hash where there is one. */
export function validatorsOf(image: ImageRecord): Validators {
  return {
    etag: `"${image.entityTag}"`,
    lastModified: image.uploadDate.toUTCString(),
  };
}

/** Extensions a saved file may keep for each stored type; the first is added when none fits. */
const EXTENSIONS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.values(imageTypes).map(({ contentType, extensions }) => [contentType, extensions]),
);

/**
 * The last path segment of the client's file name, without control or format characters
 * (bidirectional overrides could disguise the extension) or leading dots, cut to a length
 * by whole characters: whatever a client sent can neither break the header nor name a path
 * when saved.
 */
export function safeFilename(original: string): string {
  const lastSegment = original.split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/^[\s.]+/, '')
    .trim();
  const cut = Array.from(cleaned).slice(0, MAX_FILENAME_LENGTH).join('');
  return cut === '' ? 'image' : cut;
}

/** A saved copy opens as what it is: `page.html` stored as a PNG is offered as `page.html.png`. */
function withMatchingExtension(name: string, contentType: string): string {
  const allowed = EXTENSIONS.get(contentType);
  if (!allowed) return name;
  const extension = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase();
  return extension !== undefined && allowed.includes(extension) ? name : `${name}.${allowed[0] ?? ''}`;
}

/** RFC 6266: an ASCII `filename` for old clients and the exact name in UTF-8 as `filename*`. */
export function inlineDisposition(original: string, contentType: string): string {
  const name = withMatchingExtension(safeFilename(original), contentType);
  const asciiFallback = name.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  return contentDisposition(name, { type: 'inline', fallback: asciiFallback });
}

export interface Representation {
  readonly validators: Validators;
  /** What a 200 or 206 for the image carries besides its length and range. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * What a 304 must repeat of a 200 (RFC 9110, 15.4.5), and no more: revalidations are most
   * of the traffic, and with an ETag there the RFC asks not to send Last-Modified again.
   */
  readonly notModifiedHeaders: Readonly<Record<string, string>>;
}

function representationHeaders(image: ImageRecord, validators: Validators): Record<string, string> {
  return {
    ETag: validators.etag,
    'Last-Modified': validators.lastModified,
    'Cache-Control': CACHE_CONTROL,
    'Accept-Ranges': 'bytes',
    'X-Content-Type-Options': 'nosniff',
    'Content-Disposition': inlineDisposition(image.filename, image.contentType),
    'Content-Type': image.contentType,
  };
}

/** Cached records are the same objects on every hit, so their headers are built once. */
const representations = new WeakMap<ImageRecord, Representation>();

export function representationOf(image: ImageRecord): Representation {
  let representation = representations.get(image);
  if (!representation) {
    const validators = validatorsOf(image);
    const headers = representationHeaders(image, validators);
    representation = {
      validators,
      headers,
      notModifiedHeaders: { ETag: validators.etag, 'Cache-Control': CACHE_CONTROL },
    };
    representations.set(image, representation);
  }
  return representation;
}
