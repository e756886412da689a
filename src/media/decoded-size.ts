import type { Readable } from 'node:stream';
import type { ImageType } from './image-inspection';

/**
 * Types whose header can tell fewer pixels than a decoder makes of the file: a GIF's logical
 * screen says nothing of its frames, which libvips also lets grow the canvas past it; an
 * animated WebP's canvas says nothing of its frame count; an AVIF's item sizes (`ispe`) are
 * read by image-size without their associations, and cut by a `clap` it misreads; a TIFF has
 * pages. JPEG, PNG and BMP decode to what their header says.
 */
const HEADER_MAY_UNDERSTATE: ReadonlySet<ImageType> = new Set<ImageType>(['gif', 'webp', 'avif', 'tiff', 'ico']);

export function headerMayUnderstate(type: ImageType): boolean {
  return HEADER_MAY_UNDERSTATE.has(type);
}

/** What the decoder will make of a file: frames (pages) of width × height each. */
export interface DecodedSize {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

async function whole(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/**
 * Read by sharp from the file's structure (every frame's descriptor, every item), decoding no
 * pixel; undefined when libvips cannot read it at all, and so could never decode it either.
 * sharp takes the file whole: it is held once, for the time of this read.
 */
export async function decodedSizeOf(content: Readable): Promise<DecodedSize | undefined> {
  // Loaded on first use, as for transformations: a server storing only JPEG and PNG never needs it.
  const { default: sharp } = await import('sharp');
  const bytes = await whole(content);
  try {
    const { width, height, pages } = await sharp(bytes, { limitInputPixels: false }).metadata();
    return { width, height, frames: pages ?? 1 };
  } catch {
    return undefined;
  }
}
