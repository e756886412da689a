import { AppError } from '../../src/core/app-error';
import { checkOutputPixels, outputPixels, type SourceShape } from '../../src/variants/output-cost';
import type { ResolvedTransformation } from '../../src/variants/transformation-resolution';

function asked(parts: Partial<ResolvedTransformation>): ResolvedTransformation {
  return { width: undefined, height: undefined, fit: 'inside', enlarge: false, format: 'webp', quality: 80, negotiated: false, canonical: '', ...parts };
}

const photo: SourceShape = { width: 4000, height: 3000, frames: 1 };
const tinyAnimation: SourceShape = { width: 1, height: 1, frames: 200 };

describe('outputPixels', () => {
  test.each<[string, SourceShape, Partial<ResolvedTransformation>, number]>([
    ['no size: the original', photo, {}, 12_000_000],
    ['one side scales the other, the sideways reading counting', photo, { width: 400 }, 400 * 534],
    ['inside the box', photo, { width: 400, height: 400, fit: 'inside' }, 400 * 300],
    ['cover, contain and fill end at the box', photo, { width: 400, height: 400, fit: 'cover' }, 160_000],
    ['outside scales to the farther side', photo, { width: 400, height: 400, fit: 'outside' }, 534 * 400],
    ['not enlarged, a larger box leaves the original', photo, { width: 8000, height: 8000, fit: 'inside' }, 12_000_000],
    ['not enlarged, cover keeps at most the original', photo, { width: 8000, height: 8000, fit: 'cover' }, 12_000_000],
    ['enlarged outside a thin original grows its long side far past the box', { width: 1, height: 1000, frames: 1 }, { width: 2560, height: 2560, fit: 'outside', enlarge: true }, 2560 * 2_560_000],
    ['every frame of an animated format counts', tinyAnimation, { width: 2560, height: 2560, fit: 'fill', enlarge: true }, 2560 * 2560 * 200],
    ['one frame of a still format', tinyAnimation, { width: 2560, height: 2560, fit: 'fill', enlarge: true, format: 'png' }, 2560 * 2560],
  ])('when asked %s, then it counts what sharp would make', (_case, source, parts, pixels) => {
    expect(outputPixels(source, asked(parts))).toBe(pixels);
  });

  test('when the original may be turned by its EXIF orientation, then the larger reading counts', () => {
    const portraitBox = asked({ width: 300, height: 4000, fit: 'inside' });

    expect(outputPixels({ width: 4000, height: 3000, frames: 1 }, portraitBox)).toBe(outputPixels({ width: 3000, height: 4000, frames: 1 }, portraitBox));
  });
});

describe('checkOutputPixels', () => {
  test('when the 200-frame 1×1 GIF is asked at 2560×2560 in WebP, then it is refused with 422 variant-too-large naming the frames', () => {
    const refuse = () => checkOutputPixels(tinyAnimation, asked({ width: 2560, height: 2560, fit: 'fill', enlarge: true }), 50_000_000);

    expect(refuse).toThrow(AppError);
    expect(refuse).toThrow(expect.objectContaining({ code: 'variant-too-large', status: 422 }) as Error);
    expect(refuse).toThrow(/1310720000 pixels, 200 frames counted; at most 50000000 \(MAX_OUTPUT_PIXELS\)/);
  });

  test('when a variant is within the limit, then nothing is thrown', () => {
    expect(() => checkOutputPixels(photo, asked({ width: 2560 }), 50_000_000)).not.toThrow();
  });
});
