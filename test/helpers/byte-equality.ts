import { expect } from '@jest/globals';

/**
 * Buffers are equal when their bytes are, compared in one call: jest's own toEqual walks them
 * element by element, which takes seconds for the megabytes of pixels some tests compare
 * (18 s for one 1280 × 960 image on a busy machine here).
 */
function sameBytes(a: unknown, b: unknown): boolean | undefined {
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : undefined;
}

expect.addEqualityTesters([sameBytes]);
