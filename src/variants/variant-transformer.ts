import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { AppError } from '../errors/app-error';
import { OUTPUT_FORMATS, type ResolvedTransformation } from './transformation-resolution';

export interface TransformerOptions {
  /** Larger inputs are refused before their pixels are decoded. */
  readonly maxPixels: number;
}

/** What sharp says once the variant is written. */
export interface TransformedFacts {
  readonly width: number;
  /** Of one frame, for an animation. */
  readonly height: number;
}

/**
 * A sharp stream that reads an original and writes its variant: EXIF orientation applied,
 * sRGB, no metadata (sharp keeps none unless told to), never larger than the original unless
 * `enlarge`. All frames are read only when the output format can hold them.
 */
export function createTransformer(transformation: ResolvedTransformation, { maxPixels }: TransformerOptions): Sharp {
  const { width, height, fit, enlarge, format, quality } = transformation;
  const animated = OUTPUT_FORMATS[format].animated;
  const transformer = sharp({ limitInputPixels: maxPixels, animated, pages: animated ? -1 : 1 })
    .rotate()
    .toColourspace('srgb');
  if (width !== undefined || height !== undefined) {
    transformer.resize({ width, height, fit, withoutEnlargement: !enlarge });
  }
  return transformer.toFormat(format, quality === undefined ? {} : { quality });
}

/** Resolves with the variant's dimensions once sharp has written it. */
export function transformedFacts(transformer: Sharp): Promise<TransformedFacts> {
  return new Promise((resolve) => {
    transformer.once('info', (info: OutputInfo) => {
      resolve({ width: info.width, height: info.pageHeight ?? info.height });
    });
  });
}

/** sharp's words for an input over `limitInputPixels`. */
const PIXEL_LIMIT_MESSAGE = /exceeds pixel limit/i;

/**
 * Remembers what sharp itself failed with, to tell it from the failures of the streams around
 * it (the database), which sharp repeats when they destroy it.
 */
export function watchFailure(transformer: Sharp): () => unknown {
  let failure: unknown;
  transformer.on('error', (error: unknown) => {
    failure ??= error;
  });
  return () => failure;
}

/**
 * An original sharp cannot decode (uploads check only its header) or that has too many pixels
 * is the client's to know about; anything else is ours.
 */
export function explainTransformationError(error: unknown, fromSharp: boolean, maxPixels: number): unknown {
  if (!fromSharp || !(error instanceof Error)) return error;
  const detail = PIXEL_LIMIT_MESSAGE.test(error.message)
    ? `The image has more than ${maxPixels} pixels (MAX_PIXELS, all frames counted) to decode`
    : `The image cannot be decoded (${error.message.trim()})`;
  return new AppError('image-not-transformable', `${detail}; it is served only as uploaded.`, { cause: error });
}
