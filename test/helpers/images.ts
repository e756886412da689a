import { createHash, randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export type Format = 'png' | 'jpeg' | 'gif' | 'webp' | 'avif';

export const contentTypes: Record<Format, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
};

/** A real, decodable image: random pixels, so every test gets bytes no other test has. */
export async function makeImage(format: Format, width = 64, height = 48): Promise<Buffer> {
  const pixels = randomBytes(width * height * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
}

/** An uncompressed PNG of noise of about `bytes` bytes: real, and as large as asked. */
export async function makeLargePng(bytes: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt(bytes / 3));
  const pixels = randomBytes(side * side * 3);
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export const svgWithScript = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
);

/**
 * A PNG whose header claims `width`×`height` pixels, followed by noise up to `totalBytes`:
 * a decompression bomb as an upload sees it, a few hundred KB that would decode to gigabytes.
 */
export function pngClaiming(width: number, height: number, totalBytes: number): Buffer {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const header = Buffer.alloc(4 + 4 + 13 + 4);
  header.writeUInt32BE(13, 0);
  header.write('IHDR', 4, 'latin1');
  header.writeUInt32BE(width, 8);
  header.writeUInt32BE(height, 12);
  header.writeUInt8(8, 16);
  header.writeUInt8(2, 17);
  header.writeUInt32BE(crc32(header.subarray(4, 21)), 21);
  return Buffer.concat([signature, header, randomBytes(Math.max(0, totalBytes - signature.length - header.length))]);
}

/** A 2×2 24-bit BMP: a real image of a type outside the default allow-list. */
export function makeBmp(): Buffer {
  const rowBytes = 8;
  const bmp = Buffer.alloc(54 + rowBytes * 2);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(bmp.length, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(2, 18);
  bmp.writeInt32LE(2, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  randomBytes(rowBytes * 2).copy(bmp, 54);
  return bmp;
}

/** An animated GIF of `frames` frames of noise, each `width`×`height`. */
export async function makeAnimatedGif(width: number, height: number, frames: number): Promise<Buffer> {
  const pixels = randomBytes(width * height * frames * 4);
  return sharp(pixels, { raw: { width, height: height * frames, channels: 4, pageHeight: height } })
    .gif()
    .toBuffer();
}

/** An animated GIF of `frames` frames each of one flat grey, a different one each: quick to make at any size. */
export async function makeFlatAnimatedGif(width: number, height: number, frames: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * frames * 3);
  for (let frame = 0; frame < frames; frame += 1) pixels.fill(40 + frame * 60, frame * width * height * 3, (frame + 1) * width * height * 3);
  return sharp(pixels, { raw: { width, height: height * frames, channels: 3, pageHeight: height } })
    .gif()
    .toBuffer();
}

/** A JPEG stored sideways, `width`×`height` as encoded, whose EXIF says to turn it a quarter clockwise. */
export async function makeSidewaysJpeg(width: number, height: number): Promise<Buffer> {
  const pixels = randomBytes(width * height * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * A well-formed PNG of `width`×`height` black pixels whose compressed rows take a few KB: a
 * decompression bomb as a decoder sees it (only the first rows are there; decoding would
 * need width × height × 3 bytes before noticing).
 */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8);
  header.writeUInt8(2, 9);
  const rows = deflateSync(Buffer.alloc((width * 3 + 1) * 64));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', rows),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** What `withPersonalMetadata` writes, to be searched for in the stored bytes. */
export const personalMetadata = {
  artist: 'Ada Example',
  xmpCreator: 'xmp-creator-ada',
  comment: 'taken at home',
  iptc: 'Photoshop 3.0',
  /** GPSLatitude 48° 51′ 30″ as three little-endian rationals, as libvips writes them. */
  gpsLatitude: Buffer.from([48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0, 1, 0, 0, 0]),
} as const;

const xmpPacket =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  `<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>${personalMetadata.xmpCreator}</dc:creator>` +
  '</rdf:Description></rdf:RDF></x:xmpmeta>';

/**
 * An image as a phone leaves it: a Display P3 ICC profile, EXIF orientation 6 (turn a quarter
 * clockwise), the photographer's name and GPS position in EXIF, and XMP.
 */
export async function makeImageWithPersonalMetadata(format: 'jpeg' | 'png' | 'webp', width = 64, height = 48): Promise<Buffer> {
  const pixels = randomBytes(width * height * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .withIccProfile('p3')
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Artist: personalMetadata.artist },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1' },
    })
    .withXmp(xmpPacket)
    .toBuffer();
}

function jpegSegment(marker: number, payload: string): Buffer {
  const data = Buffer.from(payload, 'latin1');
  const segment = Buffer.alloc(4 + data.length);
  segment[0] = 0xff;
  segment[1] = marker;
  segment.writeUInt16BE(2 + data.length, 2);
  data.copy(segment, 4);
  return segment;
}

/** The JPEG with a comment (COM) and a Photoshop IPTC block (APP13) after its start marker, which sharp cannot write. */
export function withCommentAndIptc(jpeg: Buffer): Buffer {
  return Buffer.concat([
    jpeg.subarray(0, 2),
    jpegSegment(0xfe, personalMetadata.comment),
    jpegSegment(0xed, `${personalMetadata.iptc}\0`),
    jpeg.subarray(2),
  ]);
}

/** Whether any of the personal metadata above is somewhere in these bytes. */
export function carriesPersonalMetadata(bytes: Buffer): boolean {
  const texts = [personalMetadata.artist, personalMetadata.xmpCreator, personalMetadata.comment, personalMetadata.iptc];
  return bytes.includes(personalMetadata.gpsLatitude) || texts.some((text) => bytes.includes(text, 0, 'latin1'));
}

/** The PNG with a tEXt comment right after its header chunk, as many editors write one. */
export function withPngComment(png: Buffer): Buffer {
  const afterHeader = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([
    png.subarray(0, afterHeader),
    pngChunk('tEXt', Buffer.from(`Comment\0${personalMetadata.comment}`, 'latin1')),
    png.subarray(afterHeader),
  ]);
}

/** The four-letter types of a PNG's chunks, in order. */
export function pngChunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  for (let offset = 8; offset + 8 <= png.length; offset += 12 + png.readUInt32BE(offset)) {
    types.push(png.toString('latin1', offset + 4, offset + 8));
  }
  return types;
}

/** The four-letter types of a WebP's RIFF chunks, in order. */
export function webpChunkTypes(webp: Buffer): string[] {
  const types: string[] = [];
  for (let offset = 12; offset + 8 <= webp.length; ) {
    const size = webp.readUInt32LE(offset + 4);
    types.push(webp.toString('latin1', offset, offset + 4));
    offset += 8 + size + (size % 2);
  }
  return types;
}

/**
 * A picture worth a screenshot, the same bytes every time: a diagonal gradient between two
 * colours with a light disc, drawn from SVG by sharp.
 */
export async function makeGradient(format: Format, from: string, to: string, width = 640, height = 427): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/>` +
    `<stop offset="1" stop-color="${to}"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#g)"/>` +
    `<circle cx="${width * 0.7}" cy="${height * 0.35}" r="${height * 0.18}" fill="#fff" fill-opacity="0.55"/></svg>`;
  return sharp(Buffer.from(svg)).toFormat(format).toBuffer();
}
