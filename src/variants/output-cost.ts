import { AppError } from '../core/app-error';
import { OUTPUT_FORMATS, type ResolvedTransformation } from './transformation-resolution';

/** An original as the decoder sees it: frames of width × height each. */
export interface SourceShape {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

type Sizing = Pick<ResolvedTransformation, 'width' | 'height' | 'fit' | 'enlarge'>;

/**
 * At most how many pixels one frame of the variant has, as sharp's resize rules make it from a
 * `width` × `height` frame: one side scales the other alike; `inside` and `outside` scale to
 * the box's nearer or farther side; `cover`, `contain` and `fill` end at the box (cropped,
 * padded or stretched). Without `enlarge`, no side grows past the original's, though
 * `contain` may still pad out to the box and `fill` may stretch one side.
 */
function framePixels(width: number, height: number, sizing: Sizing): number {
  const { width: boxWidth, height: boxHeight, fit, enlarge } = sizing;
  const original = width * height;
  if (boxWidth === undefined && boxHeight === undefined) return original;
  if (boxWidth === undefined || boxHeight === undefined || fit === 'inside' || fit === 'outside') {
    const widthScale = boxWidth === undefined ? Infinity : boxWidth / width;
    const heightScale = boxHeight === undefined ? Infinity : boxHeight / height;
    const scale = fit === 'outside' && boxWidth !== undefined && boxHeight !== undefined
      ? Math.max(widthScale, heightScale)
      : Math.min(widthScale, heightScale);
    const kept = enlarge ? scale : Math.min(scale, 1);
    return Math.ceil(width * kept) * Math.ceil(height * kept);
  }
  const box = boxWidth * boxHeight;
  if (enlarge || fit === 'contain') return box;
  if (fit === 'cover' || (boxWidth <= width && boxHeight <= height)) return Math.min(box, original);
  return Math.max(box, original);
}

/**
 * Pixels the variant has in all: one frame's, times the frames when the output format keeps
 * them all. The stored width and height are before EXIF orientation, which may swap them; the
 * larger of both readings counts.
 */
export function outputPixels(source: SourceShape, transformation: ResolvedTransformation): number {
  const { width, height, frames } = source;
  const perFrame = Math.max(framePixels(width, height, transformation), framePixels(height, width, transformation));
  return perFrame * (OUTPUT_FORMATS[transformation.format].animated ? frames : 1);
}

/** Refuses, before any of it is done, a transformation that would make more than `maxOutputPixels`. */
export function checkOutputPixels(source: SourceShape, transformation: ResolvedTransformation, maxOutputPixels: number): void {
  const pixels = outputPixels(source, transformation);
  if (pixels <= maxOutputPixels) return;
  const frames = OUTPUT_FORMATS[transformation.format].animated && source.frames > 1 ? `, ${source.frames} frames counted` : '';
  throw new AppError(
    'variant-too-large',
    `The variant would have ${pixels} pixels${frames}; at most ${maxOutputPixels} (MAX_OUTPUT_PIXELS) are made. Ask a smaller size, or a format without animation.`,
  );
}
