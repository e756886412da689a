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

/** Settles `original` and `auto` against the original's type and the request's Accept, and the quality. */
export function resolveTransformation(
  transformation: Transformation,
  originalContentType: string,
  headers: Pick<IncomingHttpHeaders, 'accept'>,
): ResolvedTransformation {
  const originalFormat = formatOfOriginal(originalContentType);
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
  const { width, height, fit, enlarge } = transformation;
  const resolved = { width, height, fit, enlarge, format, quality };
  return { width, height, fit, enlarge, format, quality, negotiated, canonical: canonicalQuery(resolved) };
}

/** Per parsed query: the types of originals it was asked of, and for `auto` the Accept headers too. */
const RESOLUTIONS_KEPT = 32;
/** Longer Accept headers are negotiated every time, so that what is kept stays small. */
const LONGEST_ACCEPT_KEPT = 256;

export type TransformationResolver = (
  originalContentType: string,
  headers: Pick<IncomingHttpHeaders, 'accept'>,
) => ResolvedTransformation;

/**
 * `resolveTransformation` for one transformation, remembering its answers: a page asks the same
 * variant of many originals of one type, from browsers that send the same Accept header, and
 * resolving again would build the canonical parameters on every read of a stored variant.
 */
export function resolverOf(transformation: Transformation): TransformationResolver {
  const known = new Map<string, ResolvedTransformation>();
  const negotiated = transformation.format === 'auto';
  return (originalContentType, headers) => {
    const accept = headers.accept ?? '';
    if (negotiated && accept.length > LONGEST_ACCEPT_KEPT) return resolveTransformation(transformation, originalContentType, headers);
    const key = negotiated ? `${originalContentType} ${accept}` : originalContentType;
    let resolved = known.get(key);
    if (resolved === undefined) {
      resolved = resolveTransformation(transformation, originalContentType, headers);
      if (known.size < RESOLUTIONS_KEPT) known.set(key, resolved);
    }
    return resolved;
  };
}
