/**
 * What a read URL asks to be done to an image (`?w=&h=&fit=&enlarge=&format=&q=` or
 * `?preset=`), validated without I/O. Resolving it against the original and the request's
 * Accept header (transformation-resolution.ts) gives the canonical form variants are stored by.
 */

export const FITS = ['cover', 'contain', 'inside', 'outside', 'fill'] as const;
export type Fit = (typeof FITS)[number];

/** Formats a client may ask for by name. */
export const NAMED_FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
export type NamedFormat = (typeof NAMED_FORMATS)[number];
const REQUESTABLE_FORMATS = [...NAMED_FORMATS, 'original', 'auto'] as const;
export type RequestedFormat = (typeof REQUESTABLE_FORMATS)[number];

/** WebP's limit, the lowest of the output formats'. */
export const MAX_DIMENSION = 16383;

export interface Transformation {
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fit: Fit;
  readonly enlarge: boolean;
  readonly format: RequestedFormat;
  /** Undefined: the output format's default. */
  readonly quality: number | undefined;
}

/** The query parameters that make a read a transformation; any others are left alone. */
export const TRANSFORMATION_PARAMETERS = ['w', 'h', 'fit', 'enlarge', 'format', 'q'] as const;
type TransformationParameter = (typeof TRANSFORMATION_PARAMETERS)[number];
export const PRESET_PARAMETER = 'preset';

export interface InvalidParameter {
  readonly parameter: string;
  /** Says what the value must be; the caller adds the parameter's name. */
  readonly reason: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly invalid: InvalidParameter };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const invalid = (parameter: string, reason: string): Parsed<never> => ({ ok: false, invalid: { parameter, reason } });

function oneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}

function wholeNumber(value: string, min: number, max: number): number | undefined {
  if (!/^\d{1,6}$/.test(value)) return undefined;
  const number = Number(value);
  return number >= min && number <= max ? number : undefined;
}

function parseDimension(name: 'w' | 'h', value: string | undefined): Parsed<number | undefined> {
  if (value === undefined) return ok(undefined);
  const number = wholeNumber(value, 1, MAX_DIMENSION);
  return number === undefined ? invalid(name, `must be a whole number of pixels from 1 to ${MAX_DIMENSION}`) : ok(number);
}

function parseQuality(value: string | undefined): Parsed<number | undefined> {
  if (value === undefined) return ok(undefined);
  const number = wholeNumber(value, 1, 100);
  return number === undefined ? invalid('q', 'must be a whole number from 1 to 100') : ok(number);
}

function parseChoice<T extends string>(name: string, allowed: readonly T[], value: string | undefined, fallback: T): Parsed<T> {
  if (value === undefined) return ok(fallback);
  return oneOf(allowed, value) ? ok(value) : invalid(name, `must be one of ${allowed.join(', ')}`);
}

export type TransformationParameters = Readonly<Partial<Record<TransformationParameter, string>>>;

/** Every value checked, in the order of the parameters, so the first invalid one is named. */
export function parseTransformation(parameters: TransformationParameters): Parsed<Transformation> {
  const width = parseDimension('w', parameters.w);
  if (!width.ok) return width;
  const height = parseDimension('h', parameters.h);
  if (!height.ok) return height;
  const fit = parseChoice('fit', FITS, parameters.fit, 'inside');
  if (!fit.ok) return fit;
  const enlarge = parseChoice('enlarge', ['true', 'false'], parameters.enlarge, 'false');
  if (!enlarge.ok) return enlarge;
  const format = parseChoice('format', REQUESTABLE_FORMATS, parameters.format, 'original');
  if (!format.ok) return format;
  const quality = parseQuality(parameters.q);
  if (!quality.ok) return quality;

  const sized = width.value !== undefined || height.value !== undefined;
  // Without a size there is nothing for them to act on; refused rather than silently ignored.
  if (!sized && parameters.fit !== undefined) return invalid('fit', 'needs w or h');
  if (!sized && parameters.enlarge !== undefined) return invalid('enlarge', 'needs w or h');
  return ok({
    width: width.value,
    height: height.value,
    fit: fit.value,
    enlarge: enlarge.value === 'true',
    format: format.value,
    quality: quality.value,
  });
}

export interface TransformationRules {
  /**
   * The widths and heights a URL may ask for; undefined: any, up to `maxVariantPixels`, and
   * `q` and `enlarge` too (a signed URL).
   */
  readonly sizes: readonly number[] | undefined;
  /** Width times height at most, when any size may be asked; a missing side counts as the given one. */
  readonly maxVariantPixels: number;
  /** Named transformations anyone may ask for, whatever their sizes. */
  readonly presets: Readonly<Record<string, Transformation>>;
}

function checkSizes(transformation: Transformation, rules: TransformationRules): Parsed<Transformation> {
  const { width, height } = transformation;
  const { sizes, maxVariantPixels } = rules;
  if (sizes === undefined) {
    const side = width ?? height ?? 0;
    const pixels = (width ?? side) * (height ?? side);
    if (pixels <= maxVariantPixels) return ok(transformation);
    return invalid(width === undefined ? 'h' : 'w', `asks for ${pixels} pixels; at most ${maxVariantPixels} (MAX_VARIANT_PIXELS)`);
  }
  for (const [name, value] of [['w', width], ['h', height]] as const) {
    if (value !== undefined && !sizes.includes(value)) {
      return invalid(name, `must be one of ${sizes.join(', ')} (VARIANT_SIZES), or use a preset or a signed URL`);
    }
  }
  return ok(transformation);
}

/**
 * Parameters that multiply what one image can be made into (a hundred qualities, each enlarged
 * or not) without a page needing them: without a signature, variants take the format's default
 * quality and are never enlarged. Refused rather than ignored, so that nobody is served other
 * bytes than the URL says.
 */
const SIGNED_ONLY_PARAMETERS: readonly InvalidParameter[] = [
  { parameter: 'enlarge', reason: 'needs a signed URL: without one, a variant is never larger than the original' },
  { parameter: 'q', reason: "needs a signed URL: without one, the format's default quality is used" },
];

function findPreset(parameters: URLSearchParams, presets: TransformationRules['presets']): Parsed<Transformation> {
  const name = parameters.get(PRESET_PARAMETER) ?? '';
  const others = TRANSFORMATION_PARAMETERS.filter((parameter) => parameters.has(parameter));
  if (others.length > 0) return invalid(PRESET_PARAMETER, `cannot be combined with ${others.join(', ')}`);
  const names = Object.keys(presets);
  const preset = Object.hasOwn(presets, name) ? presets[name] : undefined;
  if (preset) return ok(preset);
  return invalid(PRESET_PARAMETER, names.length > 0 ? `must be one of ${names.join(', ')} (PRESETS)` : 'is unknown: no PRESETS are set');
}

/**
 * The transformation a read URL's query asks for, or undefined when it names none of the
 * transformation parameters: then the original is read, as before transformations existed.
 * Other parameters (cache busters such as `?v=2`) are ignored; a repeated one is refused.
 */
export function parseTransformationQuery(
  parameters: URLSearchParams,
  rules: TransformationRules,
): Parsed<Transformation> | undefined {
  const asked = [PRESET_PARAMETER, ...TRANSFORMATION_PARAMETERS].filter((name) => parameters.has(name));
  if (asked.length === 0) return undefined;
  const repeated = asked.find((name) => parameters.getAll(name).length > 1);
  if (repeated !== undefined) return invalid(repeated, 'is given more than once');
  if (parameters.has(PRESET_PARAMETER)) return findPreset(parameters, rules.presets);

  const values: Partial<Record<TransformationParameter, string>> = {};
  for (const name of TRANSFORMATION_PARAMETERS) {
    const value = parameters.get(name);
    if (value !== null) values[name] = value;
  }
  const parsed = parseTransformation(values);
  if (!parsed.ok) return parsed;
  if (rules.sizes !== undefined) {
    const needsSignature = SIGNED_ONLY_PARAMETERS.find(({ parameter }) => parameters.has(parameter));
    if (needsSignature) return invalid(needsSignature.parameter, needsSignature.reason);
  }
  return checkSizes(parsed.value, rules);
}

/**
 * `thumb:w=200,h=200,fit=cover;card:w=640,format=auto`, the syntax of PRESETS. A preset's
 * values follow the same rules as a query's, but not VARIANT_SIZES: the operator chose them.
 */
export function parsePresets(value: string): Parsed<Readonly<Record<string, Transformation>>> {
  const presets: Record<string, Transformation> = Object.create(null) as Record<string, Transformation>;
  for (const definition of value.split(';').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = /^([a-z0-9][a-z0-9_-]{0,31}):(.*)$/i.exec(definition);
    const [name, body] = [match?.[1], match?.[2]];
    if (name === undefined || body === undefined) {
      return invalid(definition, 'must be name:parameter=value,… with a name of letters, digits, "_" or "-"');
    }
    const parsed = parsePresetBody(body);
    if (!parsed.ok) return invalid(name, `${parsed.invalid.parameter} ${parsed.invalid.reason}`);
    presets[name] = parsed.value;
  }
  return ok(Object.freeze(presets));
}

function parsePresetBody(body: string): Parsed<Transformation> {
  const values: Partial<Record<TransformationParameter, string>> = {};
  for (const pair of body.split(',').map((part) => part.trim())) {
    const [name = '', value, ...rest] = pair.split('=');
    if (!oneOf(TRANSFORMATION_PARAMETERS, name) || value === undefined || rest.length > 0) {
      return invalid(pair, `is not one of ${TRANSFORMATION_PARAMETERS.map((parameter) => `${parameter}=`).join(', ')}`);
    }
    if (values[name] !== undefined) return invalid(name, 'is given more than once');
    values[name] = value;
  }
  return parseTransformation(values);
}
