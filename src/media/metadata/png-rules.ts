import { crc32 } from 'node:zlib';
import { minimalExif, readOrientation } from './exif-orientation';
import { MAX_REPLACED_BYTES, type Decision, type FormatRules } from './segment-filter';

const SIGNATURE_BYTES = 8;
/** Length and type before the data, CRC after it. */
const CHUNK_HEADER_BYTES = 8;
const CHUNK_OVERHEAD_BYTES = 12;
const TEXT_CHUNKS: ReadonlySet<string> = new Set(['tEXt', 'zTXt', 'iTXt']);

const keepRest: Decision = { kind: 'keep', bytes: Number.POSITIVE_INFINITY };

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(CHUNK_OVERHEAD_BYTES + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, CHUNK_HEADER_BYTES);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, CHUNK_HEADER_BYTES + data.length)), CHUNK_HEADER_BYTES + data.length);
  return chunk;
}

/** An eXIf chunk comes back holding the orientation alone, if it had one other than 1; else it goes. */
function keepOrientation(chunk: Buffer): Buffer {
  const orientation = readOrientation(chunk.subarray(CHUNK_HEADER_BYTES, chunk.length - 4));
  return orientation === undefined ? Buffer.alloc(0) : pngChunk('eXIf', minimalExif(orientation));
}

/**
 * Removes the text chunks (tEXt, zTXt, iTXt) and eXIf; the other chunks, ICC profile (iCCP)
 * included, stay byte for byte with their CRCs. An eXIf too large to gather goes whole, with
 * its orientation. Whatever follows IEND is kept as it is.
 */
export function pngRules(): FormatRules {
  let state: 'start' | 'chunks' | 'after-end' = 'start';

  function chunk(front: Buffer): Decision {
    if (front.length < CHUNK_HEADER_BYTES) return { kind: 'wait', bytes: CHUNK_HEADER_BYTES };
    const bytes = CHUNK_OVERHEAD_BYTES + front.readUInt32BE(0);
    const type = front.toString('latin1', 4, 8);
    if (TEXT_CHUNKS.has(type)) return { kind: 'drop', bytes };
    if (type === 'eXIf') {
      return bytes <= MAX_REPLACED_BYTES ? { kind: 'replace', bytes, by: keepOrientation } : { kind: 'drop', bytes };
    }
    if (type === 'IEND') state = 'after-end';
    return { kind: 'keep', bytes };
  }

  return {
    decide(front) {
      switch (state) {
        case 'start':
          state = 'chunks';
          return { kind: 'keep', bytes: SIGNATURE_BYTES };
        case 'chunks':
          return chunk(front);
        case 'after-end':
          return keepRest;
      }
    },
  };
}
