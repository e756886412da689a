import { loadConfig } from '../../src/config/config';
import { parsePresets, parseTransformationQuery, type TransformationRules } from '../../src/variants/transformation';
import { resolverOf, resolveTransformation, type OriginalShape } from '../../src/variants/transformation-resolution';

const { variantSizes, presets } = loadConfig({});
const rules: TransformationRules = { sizes: variantSizes, maxVariantPixels: 1_000_000, presets };
const signed: TransformationRules = { ...rules, sizes: undefined };

function parse(query: string, custom: TransformationRules = rules) {
  return parseTransformationQuery(new URLSearchParams(query), custom);
}

/** An original whose size is not known, as one stored by another tool: its size takes no part. */
const unsized = (contentType: string): OriginalShape => ({ contentType, width: undefined, height: undefined });

/** Under the signed rules, which let every parameter through. */
function canonicalOf(query: string, original: OriginalShape = unsized('image/jpeg'), accept?: string): string {
  const parsed = parse(query, signed);
  if (!parsed?.ok) throw new Error(`${query} did not parse: ${JSON.stringify(parsed)}`);
  return resolveTransformation(parsed.value, original, { accept }).canonical;
}

function invalidParameterOf(query: string, custom: TransformationRules = rules): string | undefined {
  const parsed = parse(query, custom);
  return parsed && !parsed.ok ? parsed.invalid.parameter : undefined;
}

describe('parseTransformationQuery', () => {
  test.each(['', 'v=2', 'width=64', 'W=64'])('when the query is "%s", then it asks for the original', (query) => {
    expect(parse(query)).toBeUndefined();
  });

  test.each([
    ['w=64', 'w=64&format=jpeg&q=80'],
    ['h=128&w=64', 'w=64&h=128&fit=inside&format=jpeg&q=80'],
    ['w=64&fit=cover', 'w=64&format=jpeg&q=80'],
    ['w=64&h=64&fit=fill&enlarge=true', 'w=64&h=64&fit=fill&enlarge=true&format=jpeg&q=80'],
    ['w=64&enlarge=false&v=7', 'w=64&format=jpeg&q=80'],
    ['format=original', 'format=jpeg&q=80'],
    ['format=webp&q=55', 'format=webp&q=55'],
    ['format=avif', 'format=avif&q=50'],
    ['format=png&q=10', 'format=png'],
    ['preset=thumb', 'w=200&h=200&fit=cover&format=jpeg&q=80'],
  ])('when the query is "%s", then its canonical form is "%s"', (query, canonical) => {
    expect(canonicalOf(query)).toBe(canonical);
  });

  test.each([
    ['image/png', 'format=png'],
    ['image/gif', 'format=gif'],
    ['image/webp', 'format=webp&q=80'],
    ['image/bmp', 'format=png'],
  ])('when the original is %s, then format=original writes %s', (contentType, canonical) => {
    expect(canonicalOf('format=original', unsized(contentType))).toBe(canonical);
  });

  test.each([
    ['image/avif,image/webp,*/*', 'avif'],
    ['image/webp,image/*;q=0.8', 'webp'],
    ['image/avif;q=0,image/webp', 'webp'],
    ['*/*', 'jpeg'],
    [undefined, 'jpeg'],
  ])('when Accept is %s, then format=auto negotiates %s and says so', (accept, format) => {
    const parsed = parse('format=auto');
    if (!parsed?.ok) throw new Error('format=auto did not parse');

    const resolved = resolveTransformation(parsed.value, unsized('image/jpeg'), { accept });

    expect(resolved.format).toBe(format);
    expect(resolved.negotiated).toBe(true);
  });

  test.each([
    ['w=0', 'w'],
    ['w=abc', 'w'],
    ['w=', 'w'],
    ['w=-64', 'w'],
    ['w=64.5', 'w'],
    ['w=16384', 'w'],
    ['w=65', 'w'],
    ['h=100', 'h'],
    ['w=64&w=128', 'w'],
    ['w=64&fit=squash', 'fit'],
    ['fit=cover', 'fit'],
    ['enlarge=yes&w=64', 'enlarge'],
    ['enlarge=true', 'enlarge'],
    ['format=gif', 'format'],
    ['format=JPEG', 'format'],
    ['q=0', 'q'],
    ['q=101', 'q'],
    ['q=high', 'q'],
    ['preset=nope', 'preset'],
    ['preset=thumb&w=64', 'preset'],
    ['preset=thumb&preset=card', 'preset'],
  ])('when the query is "%s", then it is refused naming %s', (query, parameter) => {
    expect(invalidParameterOf(query)).toBe(parameter);
  });

  test.each(['q=80', 'w=64&q=50', 'w=64&enlarge=true', 'w=64&enlarge=false'])(
    'when an unsigned query has q or enlarge (%s), then it is refused naming it: they need a signature',
    (query) => {
      const parsed = parse(query);

      expect(parsed).toEqual({ ok: false, invalid: { parameter: /q=/.test(query) ? 'q' : 'enlarge', reason: expect.stringContaining('signed URL') as unknown } });
    },
  );

  test('when a preset sets q and enlarge, then an unsigned query may name it: the operator chose them', () => {
    const hero = { width: 1500, height: 500, fit: 'cover', enlarge: true, format: 'webp', quality: 60 } as const;

    expect(parse('preset=hero', { ...rules, presets: { hero } })).toEqual({ ok: true, value: hero });
  });

  test('when a size is outside VARIANT_SIZES, then the reason lists the allowed ones', () => {
    const parsed = parse('w=65', { sizes: [64, 128], maxVariantPixels: 1, presets: {} });

    expect(parsed).toEqual({ ok: false, invalid: { parameter: 'w', reason: expect.stringContaining('64, 128') as unknown } });
  });
});

describe('parseTransformationQuery for a signed URL', () => {
  test.each(['w=333&q=55', 'w=640&enlarge=true'])('when %s asks q or enlarge, then it is accepted', (query) => {
    expect(parse(query, signed)?.ok).toBe(true);
  });

  test.each(['w=333', 'w=1000&h=1000', 'h=1000'])('when %s asks at most MAX_VARIANT_PIXELS, then any size is accepted', (query) => {
    expect(parse(query, signed)?.ok).toBe(true);
  });

  test.each([
    ['w=1001', 'w'],
    ['w=500&h=2001', 'w'],
    ['h=1001', 'h'],
  ])('when %s asks more than MAX_VARIANT_PIXELS, then it is refused naming %s', (query, parameter) => {
    expect(invalidParameterOf(query, signed)).toBe(parameter);
  });
});

describe('resolving against the original\'s size', () => {
  const photo: OriginalShape = { contentType: 'image/jpeg', width: 400, height: 300 };

  test.each([
    ['an enlarge within the shorter side', 'w=256&enlarge=true', 'w=256&format=jpeg&q=80'],
    ['an enlarge of both sides within it', 'w=300&h=300&fit=fill&enlarge=true', 'w=300&h=300&fit=fill&format=jpeg&q=80'],
    ['an enlarge beyond the shorter side, which an EXIF rotation may make the width', 'w=320&enlarge=true', 'w=320&enlarge=true&format=jpeg&q=80'],
    ['an enlarge beyond the image', 'w=640&enlarge=true', 'w=640&enlarge=true&format=jpeg&q=80'],
    ['a width the image already fits', 'w=640', 'format=jpeg&q=80'],
    ['a width equal to the longer side', 'w=400', 'format=jpeg&q=80'],
    ['a height the image already fits', 'h=768&format=webp', 'format=webp&q=80'],
    ['a box it fits, covered', 'w=640&h=640&fit=cover', 'format=jpeg&q=80'],
    ['a box it fits, letterboxed: padded out to the box', 'w=640&h=640&fit=contain', 'w=640&h=640&fit=contain&format=jpeg&q=80'],
    ['a box it fits in one side only', 'w=640&h=200', 'w=640&h=200&fit=inside&format=jpeg&q=80'],
    ['a width below the longer side', 'w=320', 'w=320&format=jpeg&q=80'],
  ])('when a 400×300 original is asked %s (%s), then the canonical form is "%s"', (_, query, canonical) => {
    expect(canonicalOf(query, photo)).toBe(canonical);
  });

  test('when an enlarge reaches exactly a square original\'s side, then the variant is the original re-encoded', () => {
    expect(canonicalOf('w=300&enlarge=true', { contentType: 'image/png', width: 300, height: 300 })).toBe('format=png');
  });
});

describe('resolverOf', () => {
  const longAccept = `image/avif,${'x/y;q=0.5,'.repeat(40)}*/*`;
  const requests: [OriginalShape, string | undefined][] = [
    [unsized('image/jpeg'), 'image/avif,image/webp,*/*'],
    [unsized('image/png'), 'image/webp,*/*'],
    [{ contentType: 'image/jpeg', width: 4000, height: 3000 }, undefined],
    [{ contentType: 'image/jpeg', width: 400, height: 300 }, undefined],
    [{ contentType: 'image/gif', width: 640, height: 640 }, 'image/webp,*/*'],
    [{ contentType: 'image/png', width: 200, height: 800 }, longAccept],
  ];

  test.each(['w=640&format=auto', 'w=640&format=original', 'w=640&format=webp&q=60', 'w=640&enlarge=true'])(
    'when "%s" is resolved again and again for other originals and Accept headers, then each answer is as if resolved afresh',
    (query) => {
      const parsed = parse(query, signed);
      if (!parsed?.ok) throw new Error(`${query} did not parse`);
      const resolve = resolverOf(parsed.value);

      for (const [original, accept] of [...requests, ...requests]) {
        expect(resolve(original, { accept })).toEqual(resolveTransformation(parsed.value, original, { accept }));
      }
    },
  );
});

describe('parsePresets', () => {
  test('when presets are listed, then each is a transformation under its name', () => {
    const parsed = parsePresets(' hero:w=1500,h=500,fit=cover,q=70 ; icon:w=32,format=png ;');

    expect(parsed.ok && Object.keys(parsed.value)).toEqual(['hero', 'icon']);
    expect(parsed.ok && parsed.value.hero).toMatchObject({ width: 1500, height: 500, fit: 'cover', quality: 70 });
  });

  test.each([
    ['a name without parameters', 'thumb', 'thumb'],
    ['an unknown parameter', 'thumb:w=200,size=3', 'thumb'],
    ['an invalid value', 'thumb:w=0', 'thumb'],
    ['a repeated parameter', 'thumb:w=200,w=300', 'thumb'],
  ])('when PRESETS has %s, then it is refused naming the preset', (_, value, named) => {
    const parsed = parsePresets(value);

    expect(!parsed.ok && parsed.invalid.parameter).toBe(named);
  });
});
