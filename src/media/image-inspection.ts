import { imageSize } from 'image-size';

/**
 * The raster formats the service can recognise, by the names `ALLOWED_TYPES` uses. SVG is not
 * one of them and can never be allowed: it is a document that can carry script.
 */
export const imageTypes = {
  jpeg: { detectedAs: 'jpg', contentType: 'image/jpeg', extensions: ['jpg', 'jpeg', 'jpe', 'jfif'] },
  png: { detectedAs: 'png', contentType: 'image/png', extensions: ['png'] },
  gif: { detectedAs: 'gif', contentType: 'image/gif', extensions: ['gif'] },
  webp: { detectedAs: 'webp', contentType: 'image/webp', extensions: ['webp'] },
  avif: { detectedAs: 'avif', contentType: 'image/avif', extensions: ['avif'] },
  bmp: { detectedAs: 'bmp', contentType: 'image/bmp', extensions: ['bmp'] },
  tiff: { detectedAs: 'tiff', contentType: 'image/tiff', extensions: ['tif', 'tiff'] },
  ico: { detectedAs: 'ico', contentType: 'image/x-icon', extensions: ['ico'] },
} as const;

export type ImageType = keyof typeof imageTypes;

export function isImageType(name: string): name is ImageType {
  return Object.hasOwn(imageTypes, name);
}

export type HeadInspection =
  | { readonly kind: 'image'; readonly type: ImageType; readonly contentType: string; readonly width: number; readonly height: number }
  | { readonly kind: 'need-more-bytes' }
  | { readonly kind: 'unrecognised'; readonly reason: string };

/**
 * The most bytes read before deciding. Dimensions of a JPEG sit after its APP segments
 * (EXIF, ICC profiles), which can fill tens of KiB; anything that still does not parse
 * after this much is not an image we accept.
 */
export const MAX_HEAD_BYTES = 512 * 1024;

const typeByDetectedName = new Map<string, ImageType>(
  Object.entries(imageTypes).map(([name, { detectedAs }]) => [detectedAs, name as ImageType]),
);

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
      return { kind: 'unrecognised', reason: 'The content is not a recognised image.' };
    }
    return { kind: 'need-more-bytes' };
  }
  const detectedName = detected.type ?? 'unknown';
  const type = typeByDetectedName.get(detectedName);
  if (type === undefined) {
    return { kind: 'unrecognised', reason: `Images of type "${detectedName}" are not accepted.` };
  }
  return {
    kind: 'image',
    type,
    contentType: imageTypes[type].contentType,
    width: detected.width ?? 0,
    height: detected.height ?? 0,
  };
}
