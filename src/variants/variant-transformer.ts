import { AppError } from '../core/app-error';
import type { SourceShape } from './output-cost';
import { OUTPUT_FORMATS, type ResolvedTransformation } from './transformation-resolution';

export interface TransformerOptions {
  /** Larger inputs are refused before their pixels are decoded. */
  readonly maxPixels: number;
}

/** A variant as sharp wrote it. */
export interface TransformedImage {
  readonly bytes: Buffer;
  readonly width: number;
  /** Of one frame, for an animation. */
  readonly height: number;
}

/** sharp's words for an input over `limitInputPixels`. */
const PIXEL_LIMIT_MESSAGE = /exceeds pixel limit/i;

/**
 * An original sharp cannot decode (uploads check only its header) or that has too many pixels
 * is the client's to know about, in our words: the decoder's own (libvips, libheif) name its
 * internals and stay in the log, as the error's cause.
 */
function notTransformable(error: unknown, maxPixels: number): unknown {
  if (!(error instanceof Error)) return error;
  const detail = PIXEL_LIMIT_MESSAGE.test(error.message)
    ? `The image has more than ${maxPixels} pixels (MAX_PIXELS, all frames counted) to decode`
    : 'The image data is damaged or incomplete and cannot be decoded';
  return new AppError('image-not-transformable', `${detail}; it is served only as uploaded.`, { cause: error });
}

/**
 * Makes the variant of an original held whole in memory: EXIF orientation applied, sRGB, no
 * metadata (sharp keeps none unless told to), never larger than the original unless `enlarge`.
 * All frames are read only when the output format can hold them. sharp gets the original as
 * one buffer, as it would gather a stream into one anyway, and JPEG shrink-on-load works the same.
 */
export async function transform(original: Buffer, transformation: ResolvedTransformation, { maxPixels }: TransformerOptions): Promise<TransformedImage> {
  const { width, height, fit, enlarge, format, quality } = transformation;
  const animated = OUTPUT_FORMATS[format].animated;
  // Loaded on the first transformation: sharp and libvips hold about 19 MiB once loaded, which a
  // server that only stores and serves originals (and each upload's peak memory) is spared.
  const { default: sharp } = await import('sharp');
  const transformer = sharp(original, { limitInputPixels: maxPixels, animated, pages: animated ? -1 : 1 })
    .rotate()
    .toColourspace('srgb');
  if (width !== undefined || height !== undefined) {
    transformer.resize({ width, height, fit, withoutEnlargement: !enlarge });
  }
  try {
    const { data, info } = await transformer.toFormat(format, quality === undefined ? {} : { quality }).toBuffer({ resolveWithObject: true });
    return { bytes: data, width: info.width, height: info.pageHeight ?? info.height };
  } catch (error) {
    throw notTransformable(error, maxPixels);
  }
}

/**
 * The frames of an original and the size of each, read by sharp from the file's structure
 * without decoding a pixel; undefined when sharp cannot read it, and so could not transform it.
 */
export async function shapeOf(original: Buffer): Promise<SourceShape | undefined> {
  const { default: sharp } = await import('sharp');
  try {
    const { width, height, pageHeight, pages } = await sharp(original, { limitInputPixels: false }).metadata();
    return { width, height: pageHeight ?? height, frames: pages ?? 1 };
  } catch {
    return undefined;
  }
}
