import { minimalExif, readOrientation } from './exif-orientation';
import { MAX_REPLACED_BYTES, type Decision, type FormatRules } from './segment-filter';

const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
/** The VP8X flag saying an XMP chunk follows; the EXIF flag stays true, since an EXIF chunk stays. */
const XMP_FLAG = 0x04;

const keepRest: Decision = { kind: 'keep', bytes: Number.POSITIVE_INFINITY };

function chunkHeader(fourCc: string, payloadBytes: number): Buffer {
  const header = Buffer.alloc(CHUNK_HEADER_BYTES);
  header.write(fourCc, 0, 'latin1');
  header.writeUInt32LE(payloadBytes, 4);
  return header;
}

function riffChunk(fourCc: string, payload: Buffer): Buffer {
  return Buffer.concat([chunkHeader(fourCc, payload.length), payload]);
}

/** An unknown chunk of zeros, `bytes` long with its header: readers skip it. */
function junk(bytes: number): Buffer {
  return riffChunk('JUNK', Buffer.alloc(bytes - CHUNK_HEADER_BYTES));
}

function withoutXmpFlag(vp8x: Buffer): Buffer {
  const copy = Buffer.from(vp8x);
  if (copy.length > CHUNK_HEADER_BYTES) copy.writeUInt8((copy[CHUNK_HEADER_BYTES] ?? 0) & ~XMP_FLAG, CHUNK_HEADER_BYTES);
  return copy;
}

/**
 * The EXIF chunk as one holding the orientation alone (or nothing), followed by JUNK up to
 * the same length, so that the RIFF size written at the start stays true.
 */
function sameSizeMinimalExif(exifChunk: Buffer): Buffer {
  const tiff = minimalExif(readOrientation(exifChunk.subarray(CHUNK_HEADER_BYTES)));
  const rest = exifChunk.length - CHUNK_HEADER_BYTES - tiff.length;
  if (rest < 0) return junk(exifChunk.length);
  if (rest < CHUNK_HEADER_BYTES) return riffChunk('EXIF', Buffer.concat([tiff, Buffer.alloc(rest)]));
  return Buffer.concat([riffChunk('EXIF', tiff), junk(rest)]);
}

/**
 * Overwrites EXIF and XMP chunks in place rather than removing them: the RIFF size comes
 * first and the metadata after the image data, so removing them would need the whole file
 * held back to fix that size. EXIF becomes an EXIF chunk holding the orientation alone plus
 * JUNK of the rest of its length; XMP (and an EXIF chunk over 64 KiB) becomes JUNK of zeros;
 * the XMP flag of VP8X is cleared. ICC profile, image and animation chunks stay byte for byte.
 * The stored file is as long as the one sent.
 */
export function webpRules(): FormatRules {
  let state: 'start' | 'chunks' | 'after-end' = 'start';
  let position = 0;
  let riffEnd = 0;
  let bytesToBlank = 0;

  function chunk(front: Buffer): Decision {
    if (front.length < CHUNK_HEADER_BYTES) return { kind: 'wait', bytes: CHUNK_HEADER_BYTES };
    const fourCc = front.toString('latin1', 0, 4);
    const size = front.readUInt32LE(4);
    const bytes = CHUNK_HEADER_BYTES + size + (size % 2);
    position += bytes;
    const gatherable = bytes <= MAX_REPLACED_BYTES;
    if (fourCc === 'VP8X' && gatherable) return { kind: 'replace', bytes, by: withoutXmpFlag };
    if (fourCc === 'EXIF' && gatherable) return { kind: 'replace', bytes, by: sameSizeMinimalExif };
    if (fourCc === 'EXIF' || fourCc === 'XMP ') {
      bytesToBlank = bytes - CHUNK_HEADER_BYTES;
      return { kind: 'replace', bytes: CHUNK_HEADER_BYTES, by: () => chunkHeader('JUNK', size) };
    }
    return { kind: 'keep', bytes };
  }

  return {
    decide(front) {
      if (bytesToBlank > 0) {
        const blank: Decision = { kind: 'blank', bytes: bytesToBlank };
        bytesToBlank = 0;
        return blank;
      }
      switch (state) {
        case 'start': {
          if (front.length < RIFF_HEADER_BYTES) return { kind: 'wait', bytes: RIFF_HEADER_BYTES };
          const isWebp = front.toString('latin1', 0, 4) === 'RIFF' && front.toString('latin1', 8, 12) === 'WEBP';
          state = isWebp ? 'chunks' : 'after-end';
          riffEnd = CHUNK_HEADER_BYTES + front.readUInt32LE(4);
          position = RIFF_HEADER_BYTES;
          return isWebp ? { kind: 'keep', bytes: RIFF_HEADER_BYTES } : keepRest;
        }
        case 'chunks':
          if (position >= riffEnd) state = 'after-end';
          return position >= riffEnd ? keepRest : chunk(front);
        case 'after-end':
          return keepRest;
      }
    },
  };
}
