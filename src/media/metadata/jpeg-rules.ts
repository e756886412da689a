import { EXIF_PREFIX, minimalExif, readOrientation } from './exif-orientation';
import type { Decision, FormatRules } from './segment-filter';

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP1 = 0xe1;
const APP13 = 0xed;
const COM = 0xfe;

const keepRest: Decision = { kind: 'keep', bytes: Number.POSITIVE_INFINITY };

/** Markers that stand alone, without a length: TEM, RST0 to RST7, SOI. */
function standsAlone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

/** Inside entropy-coded data, 0xFF is followed by a stuffed 0x00 or a restart marker; anything else ends the scan. */
function endsScan(next: number): boolean {
  return next !== 0x00 && !(next >= 0xd0 && next <= 0xd7);
}

function app1Segment(exif: Buffer): Buffer {
  const segment = Buffer.alloc(4 + EXIF_PREFIX.length + exif.length);
  segment[0] = MARKER;
  segment[1] = APP1;
  segment.writeUInt16BE(segment.length - 2, 2);
  EXIF_PREFIX.copy(segment, 4);
  exif.copy(segment, 4 + EXIF_PREFIX.length);
  return segment;
}

/**
 * Removes APP1 (EXIF, XMP), APP13 (Photoshop, IPTC) and COM segments wherever they are,
 * between scans too. The first EXIF orientation other than 1 comes back as an APP1 holding
 * it alone. ICC profiles (APP2), JFIF (APP0) and Adobe (APP14) stay. Whatever follows the
 * end of the image (the extra images of a multi-picture file) is kept as it is: removing
 * bytes before them would break the offsets that point at them.
 */
export function jpegRules(): FormatRules {
  let state: 'start' | 'segments' | 'scan' | 'after-end' = 'start';
  let orientationKept = false;

  function keepOrientationOnce(segment: Buffer): Buffer {
    const payload = segment.subarray(4);
    if (orientationKept || !payload.subarray(0, EXIF_PREFIX.length).equals(EXIF_PREFIX)) return Buffer.alloc(0);
    const orientation = readOrientation(payload);
    if (orientation === undefined) return Buffer.alloc(0);
    orientationKept = true;
    return app1Segment(minimalExif(orientation));
  }

  function segment(front: Buffer): Decision {
    if (front.length < 2) return { kind: 'wait', bytes: 2 };
    if (front[0] !== MARKER) {
      // Bytes where a marker belongs: read on as a decoder does, up to the next marker.
      state = 'scan';
      return scan(front);
    }
    const marker = front[1] ?? 0;
    if (marker === MARKER) return { kind: 'keep', bytes: 1 };
    if (marker === EOI) {
      state = 'after-end';
      return { kind: 'keep', bytes: 2 };
    }
    if (standsAlone(marker)) return { kind: 'keep', bytes: 2 };
    if (front.length < 4) return { kind: 'wait', bytes: 4 };
    const bytes = 2 + front.readUInt16BE(2);
    if (marker === SOS) state = 'scan';
    if (marker === APP1) return { kind: 'replace', bytes, by: keepOrientationOnce };
    if (marker === APP13 || marker === COM) return { kind: 'drop', bytes };
    return { kind: 'keep', bytes };
  }

  function scan(front: Buffer): Decision {
    for (let at = front.indexOf(MARKER); at !== -1; at = front.indexOf(MARKER, at + 1)) {
      if (at === front.length - 1) return at > 0 ? { kind: 'keep', bytes: at } : { kind: 'wait', bytes: 2 };
      if (endsScan(front[at + 1] ?? 0)) {
        state = 'segments';
        return at > 0 ? { kind: 'keep', bytes: at } : segment(front);
      }
    }
    return { kind: 'keep', bytes: front.length };
  }

  return {
    decide(front) {
      switch (state) {
        case 'start': {
          if (front.length < 2) return { kind: 'wait', bytes: 2 };
          const startsImage = front[0] === MARKER && front[1] === SOI;
          state = startsImage ? 'segments' : 'after-end';
          return startsImage ? { kind: 'keep', bytes: 2 } : keepRest;
        }
        case 'segments':
          return segment(front);
        case 'scan':
          return scan(front);
        case 'after-end':
          return keepRest;
      }
    },
  };
}
