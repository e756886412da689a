import { imageSize } from 'image-size';

/** The image formats the service can store, by the type name image-size reports. */
export const imageFormats = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
} as const;

export type ImageFormat = keyof typeof imageFormats;

export type HeadInspection =
  | { readonly kind: 'image'; readonly format: ImageFormat; readonly contentType: string; readonly width: number; readonly height: number }
  | { readonly kind: 'need-more-bytes' }
  | { readonly kind: 'rejected'; readonly reason: string };

/**
 * The most bytes read before deciding. Dimensions of a JPEG sit after its APP segments
 * (EXIF, ICC profiles), which can fill tens of KiB; anything that still does not parse
 * after this much is not an image we accept.
 */
export const MAX_HEAD_BYTES = 512 * 1024;

function isImageFormat(type: string): type is ImageFormat {
  return Object.hasOwn(imageFormats, type);
}

/**
 * Decides what a file is from its first bytes, by magic numbers and a parsable header,
 * never by what the client declared. `complete` says the head is the whole file.
 */
export function inspectHead(head: Uint8Array, complete: boolean): HeadInspection {
  let detected: { type?: string; width?: number; height?: number };
  try {
    detected = imageSize(head);
  } catch {
    if (complete || head.length >= MAX_HEAD_BYTES) {
      return { kind: 'rejected', reason: 'The content is not a recognised image.' };
    }
    return { kind: 'need-more-bytes' };
  }
  const type = detected.type ?? 'unknown';
  if (!isImageFormat(type)) {
    return { kind: 'rejected', reason: `Images of type "${type}" are not accepted.` };
  }
  return {
    kind: 'image',
    format: type,
    contentType: imageFormats[type],
    width: detected.width ?? 0,
    height: detected.height ?? 0,
  };
}
