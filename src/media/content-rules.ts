import { AppError } from '../core/app-error';
import type { DecodedSize } from './decoded-size';
import type { HeadInspection, ImageType } from './image-inspection';

export interface ContentRules {
  readonly allowedTypes: readonly ImageType[];
  readonly maxPixels: number;
}

export type RecognisedImage = Extract<HeadInspection, { kind: 'image' }>;

/**
 * The image a file's head shows, or why it cannot be stored: the same verdict for every way
 * an image arrives (a multipart part, a resumable upload).
 */
export function judgeHead(inspection: HeadInspection, filename: string, rules: ContentRules): RecognisedImage | AppError {
  const accepted = `Accepted: ${rules.allowedTypes.join(', ')}.`;
  if (inspection.kind !== 'image') {
    const reason = inspection.kind === 'unrecognised' ? inspection.reason : '';
    return new AppError('unsupported-image-type', `${filename}: ${reason} ${accepted}`);
  }
  if (!rules.allowedTypes.includes(inspection.type)) {
    return new AppError('unsupported-image-type', `${filename}: images of type "${inspection.type}" are not accepted. ${accepted}`);
  }
  return judgePixels({ ...inspection, frames: 1 }, filename, rules) ?? inspection;
}

/** Why an image of these dimensions cannot be stored, or undefined when it can. */
export function judgePixels({ width, height, frames }: DecodedSize, filename: string, rules: ContentRules): AppError | undefined {
  const pixels = width * height * frames;
  if (pixels <= rules.maxPixels) return undefined;
  const size = frames === 1 ? `${width}×${height}` : `${frames} frames of ${width}×${height}`;
  return new AppError('too-many-pixels', `${filename} is ${size}, ${pixels} pixels; at most ${rules.maxPixels} pixels are accepted.`);
}

export function fileTooLarge(maxFileSize: number): AppError {
  return new AppError('file-too-large', `Each file may be at most ${maxFileSize} bytes.`);
}
