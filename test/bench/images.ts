import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { KIB, MIB } from './settings';

export interface BenchImage {
  /** As the report names it: "100 KiB". */
  readonly label: string;
  /** As a file name or path segment: "100KiB". */
  readonly name: string;
  readonly bytes: Buffer;
}

/** Uncompressed PNG bytes per row: one filter byte and three bytes a pixel. */
function rowBytes(width: number): number {
  return 1 + 3 * width;
}

function noisePng(width: number, height: number): Promise<Buffer> {
  const pixels = randomBytes(width * height * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

/**
 * A real PNG of random pixels, as close to `maxBytes` as whole rows allow and never over it,
 * so that "1 MiB" still fits a cache that takes bodies of up to 1 MiB.
 */
export async function makePngOfAtMost(maxBytes: number): Promise<Buffer> {
  const width = Math.max(8, Math.round(Math.sqrt(maxBytes / 3)));
  let height = Math.floor(maxBytes / rowBytes(width));
  for (;;) {
    const png = await noisePng(width, height);
    if (png.length <= maxBytes) return png;
    height -= Math.ceil((png.length - maxBytes) / rowBytes(width));
  }
}

const READ_SIZES = [
  { label: '10 KiB', name: '10KiB', bytes: 10 * KIB },
  { label: '100 KiB', name: '100KiB', bytes: 100 * KIB },
  { label: '1 MiB', name: '1MiB', bytes: MIB },
] as const;

export async function makeReadImages(): Promise<BenchImage[]> {
  return Promise.all(
    READ_SIZES.map(async ({ label, name, bytes }) => ({ label, name, bytes: await makePngOfAtMost(bytes) })),
  );
}

/** A valid PNG header and image, then random bytes up to `totalBytes`: accepted by its first bytes, costly to store. */
export async function makeUploadPng(totalBytes: number): Promise<Buffer> {
  const head = await noisePng(16, 16);
  return Buffer.concat([head, randomBytes(totalBytes - head.length)]);
}

/**
 * A JPEG as a camera makes one, at quality 90: smooth shapes (noise scaled up) with a fine
 * grain over them, so that it compresses like a photo (12 MP: about 4 MB) rather than like
 * pure noise or a flat colour.
 */
export async function makePhotoJpeg(width: number, height: number): Promise<Buffer> {
  const shapes = await sharp(randomBytes(200 * 150 * 3), { raw: { width: 200, height: 150, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  const grain = randomBytes(shapes.length);
  for (let index = 0; index < shapes.length; index++) {
    shapes[index] = Math.max(0, Math.min(255, (shapes[index] ?? 0) + ((grain[index] ?? 0) & 31) - 16));
  }
  return sharp(shapes, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}
