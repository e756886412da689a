import type { IncomingHttpHeaders } from 'node:http';
import type { Fit, Transformation } from './transformation';

/** What variants are written as: the named formats, and GIF and TIFF originals kept as they are. */
export const OUTPUT_FORMATS = {
  jpeg: { contentType: 'image/jpeg', defaultQuality: 80, animated: false },
  png: { contentType: 'image/png', defaultQuality: undefined, animated: false },
  webp: { contentType: 'image/webp', defaultQuality: 80, animated: true },
  avif: { contentType: 'image/avif', defaultQuality: 50, animated: false },
  gif: { contentType: 'image/gif', defaultQuality: undefined, animated: true },
  tiff: { contentType: 'image/tiff', defaultQuality: undefined, animated: false },
} as const;
export type OutputFormat = keyof typeof OUTPUT_FORMATS;

/** A transformation with nothing left to decide: what is made, and what it is stored under. */
export interface ResolvedTransformation {
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fit: Fit;
  readonly enlarge: boolean;
  readonly format: OutputFormat;
  /** Undefined for the lossless formats, where `q` has no meaning. */
  readonly quality: number | undefined;
  /** The format depended on the request's Accept header: the answer must say `Vary: Accept`. */
  readonly negotiated: boolean;
  /**
   * The same for every request that yields the same bytes, as a query string:
   * `w=640&h=480&fit=cover&format=webp&q=80`.
   */
  readonly canonical: string;
}

const FORMAT_OF_CONTENT_TYPE: ReadonlyMap<string, OutputFormat> = new Map(
  Object.entries(OUTPUT_FORMATS).map(([format, { contentType }]) => [contentType, format as OutputFormat]),
);

/** Originals of a type nothing can write (BMP, ICO) become PNG, which loses nothing. */
function formatOfOriginal(contentType: string): OutputFormat {
  return FORMAT_OF_CONTENT_TYPE.get(contentType) ?? 'png';
}

/** The media types an Accept header lists with a non-zero weight; wildcards name no format. */
function acceptedTypes(accept: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const range of (accept ?? '').split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const weight = parameters.find((parameter) => parameter.startsWith('q='));
    if (weight === undefined || Number(weight.slice(2)) > 0) accepted.add(type);
  }
  return accepted;
}

function negotiate(accept: string | undefined, originalFormat: OutputFormat): OutputFormat {
  const accepted = acceptedTypes(accept);
  if (accepted.has(OUTPUT_FORMATS.avif.contentType)) return 'avif';
  if (accepted.has(OUTPUT_FORMATS.webp.contentType)) return 'webp';
  return originalFormat;
}

function canonicalQuery(resolved: Omit<ResolvedTransformation, 'canonical' | 'negotiated'>): string {
  const { width, height, fit, enlarge, format, quality } = resolved;
  const parts: string[] = [];
  if (width !== undefined) parts.push(`w=${width}`);
  if (height !== undefined) parts.push(`h=${height}`);
  // With one side given, every fit scales to it alike.
  if (width !== undefined && height !== undefined) parts.push(`fit=${fit}`);
  if (enlarge) parts.push('enlarge=true');
  parts.push(`format=${format}`);
  if (quality !== undefined) parts.push(`q=${quality}`);
  return parts.join('&');
}

/** What is known of an original without reading it: its type, and its size as its header gives it. */
export interface OriginalShape {
  readonly contentType: string;
  /** Absent on files stored by other tools: then the size is made as asked. */
  readonly width: number | undefined;
  readonly height: number | undefined;
}

/**
 * How the asked size settles against the original's, so that asks that make the same bytes
 * share one key: `not-enlarged`, an `enlarge` with nothing to enlarge; `unresized`, a box the
 * image already fits, which without anything to enlarge leaves it as it is (the format
 * conversion alone).
 */
type Fitting = 'as-asked' | 'not-enlarged' | 'unresized';

const atMost = (side: number | undefined, limit: number) => side === undefined || side <= limit;
const atLeast = (side: number | undefined, limit: number) => side === undefined || side >= limit;

/**
 * The stored width and height are the header's, before an EXIF orientation that may swap them,
 * so each rule is taken only where it holds either way round: every asked side within the
 * shorter side, or beyond the longer one. `contain` with both sides letterboxes into the box
 * whatever the image's size, so it is never unresized.
 */
function fittingOf({ width, height, fit, enlarge }: Transformation, original: OriginalShape): Fitting {
  const { width: originalWidth = 0, height: originalHeight = 0 } = original;
  if ((width === undefined && height === undefined) || originalWidth <= 0 || originalHeight <= 0) return 'as-asked';
  const shorter = Math.min(originalWidth, originalHeight);
  if (enlarge && !(atMost(width, shorter) && atMost(height, shorter))) return 'as-asked';
  const longer = Math.max(originalWidth, originalHeight);
  const boxed = width !== undefined && height !== undefined && fit === 'contain';
  if (!boxed && atLeast(width, longer) && atLeast(height, longer)) return 'unresized';
  return enlarge ? 'not-enlarged' : 'as-asked';
}

type Size = Pick<ResolvedTransformation, 'width' | 'height' | 'fit' | 'enlarge'>;

/**
 * The size as it is made and stored. With one side, every fit scales to it alike once enlarged
 * (sharp's `contain` would pad a smaller image out to the side), so one side is always `inside`.
 */
function sizeOf(transformation: Transformation, original: OriginalShape): Size {
  const { width, height, fit, enlarge } = transformation;
  const boxFit = width !== undefined && height !== undefined ? fit : 'inside';
  switch (fittingOf(transformation, original)) {
    case 'as-asked':
      return { width, height, fit: boxFit, enlarge };
    case 'not-enlarged':
      return { width, height, fit: boxFit, enlarge: false };
    case 'unresized':
      return { width: undefined, height: undefined, fit: 'inside', enlarge: false };
  }
}

/**
 * Settles the size against the original's, `original` and `auto` against its type and the
 * request's Accept, and the quality.
 */
export function resolveTransformation(
  transformation: Transformation,
  original: OriginalShape,
  headers: Pick<IncomingHttpHeaders, 'accept'>,
): ResolvedTransformation {
  const originalFormat = formatOfOriginal(original.contentType);
  const negotiated = transformation.format === 'auto';
  const format =
    transformation.format === 'auto'
      ? negotiate(headers.accept, originalFormat)
      : transformation.format === 'original'
        ? originalFormat
        : transformation.format;
  const { defaultQuality } = OUTPUT_FORMATS[format];
  const quality = defaultQuality === undefined ? undefined : (transformation.quality ?? defaultQuality);
  // Written out rather than spread: V8 copies an object spread slowly, and every read of a
  // stored variant resolves its transformation again (two spreads cost 3 µs of the 55 µs such a read takes).
  const { width, height, fit, enlarge } = sizeOf(transformation, original);
  const resolved = { width, height, fit, enlarge, format, quality };
  return { width, height, fit, enlarge, format, quality, negotiated, canonical: canonicalQuery(resolved) };
}

/** Per parsed query and fitting: the types of originals it was asked of, and for `auto` the Accept headers too. */
const RESOLUTIONS_KEPT = 32;
/** Longer Accept headers are negotiated every time, so that what is kept stays small. */
const LONGEST_ACCEPT_KEPT = 256;

export type TransformationResolver = (original: OriginalShape, headers: Pick<IncomingHttpHeaders, 'accept'>) => ResolvedTransformation;

/**
 * `resolveTransformation` for one transformation, remembering its answers: a page asks the same
 * variant of many originals of one type, from browsers that send the same Accept header, and
 * resolving again would build the canonical parameters on every read of a stored variant.
 * Originals of other sizes differ only in how the size fits, one of three answers.
 */
export function resolverOf(transformation: Transformation): TransformationResolver {
  const known: Record<Fitting, Map<string, ResolvedTransformation>> = {
    'as-asked': new Map(),
    'not-enlarged': new Map(),
    unresized: new Map(),
  };
  const negotiated = transformation.format === 'auto';
  return (original, headers) => {
    const accept = headers.accept ?? '';
    if (negotiated && accept.length > LONGEST_ACCEPT_KEPT) return resolveTransformation(transformation, original, headers);
    const kept = known[fittingOf(transformation, original)];
    const key = negotiated ? `${original.contentType} ${accept}` : original.contentType;
    let resolved = kept.get(key);
    if (resolved === undefined) {
      resolved = resolveTransformation(transformation, original, headers);
      if (kept.size < RESOLUTIONS_KEPT) kept.set(key, resolved);
    }
    return resolved;
  };
}
