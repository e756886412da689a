/** How JPEG's APP1 and some WebP writers start an EXIF block, before its TIFF structure. */
export const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');

const ORIENTATION_TAG = 0x0112;
const SHORT_TYPE = 3;
const IFD_ENTRY_BYTES = 12;

interface TiffReader {
  readonly u16: (offset: number) => number;
  readonly u32: (offset: number) => number;
}

function tiffReader(tiff: Buffer): TiffReader | undefined {
  const order = tiff.toString('latin1', 0, 2);
  if (order === 'II') return { u16: (at) => tiff.readUInt16LE(at), u32: (at) => tiff.readUInt32LE(at) };
  if (order === 'MM') return { u16: (at) => tiff.readUInt16BE(at), u32: (at) => tiff.readUInt32BE(at) };
  return undefined;
}

function findOrientation(tiff: Buffer, read: TiffReader): number | undefined {
  if (read.u16(2) !== 42) return undefined;
  const ifd = read.u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = read.u16(ifd);
  for (let index = 0; index < entries; index++) {
    const entry = ifd + 2 + index * IFD_ENTRY_BYTES;
    if (entry + IFD_ENTRY_BYTES > tiff.length) return undefined;
    if (read.u16(entry) === ORIENTATION_TAG && read.u16(entry + 2) === SHORT_TYPE && read.u32(entry + 4) === 1) {
      return read.u16(entry + 8);
    }
  }
  return undefined;
}

/**
 * The EXIF orientation (2 to 8) of an EXIF block, with or without its `Exif\0\0` prefix;
 * undefined when it has none, says 1 (as stored), or cannot be read.
 */
export function readOrientation(exif: Buffer): number | undefined {
  const tiff = exif.subarray(0, EXIF_PREFIX.length).equals(EXIF_PREFIX) ? exif.subarray(EXIF_PREFIX.length) : exif;
  if (tiff.length < 8) return undefined;
  const reader = tiffReader(tiff);
  const orientation = reader && findOrientation(tiff, reader);
  return orientation !== undefined && orientation >= 2 && orientation <= 8 ? orientation : undefined;
}

/**
 * A TIFF structure whose first directory holds the orientation alone, or nothing at all:
 * 26 bytes, or 14 without an orientation.
 */
export function minimalExif(orientation: number | undefined): Buffer {
  const entries = orientation === undefined ? 0 : 1;
  const tiff = Buffer.alloc(8 + 2 + entries * IFD_ENTRY_BYTES + 4);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(entries, 8);
  if (orientation !== undefined) {
    tiff.writeUInt16BE(ORIENTATION_TAG, 10);
    tiff.writeUInt16BE(SHORT_TYPE, 12);
    tiff.writeUInt32BE(1, 14);
    tiff.writeUInt16BE(orientation, 18);
  }
  return tiff;
}
