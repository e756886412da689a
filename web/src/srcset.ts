/**
 * Read URLs of stored variants for `<img srcset>`: only the widths the server lets anyone ask
 * for (VARIANT_SIZES), in `format=auto` so that each browser gets the best format it accepts.
 */

export interface SizedImage {
  readonly id: string;
  readonly width: number | null;
}

/** The allowed widths worth listing: none wider than the image (variants are never enlarged), at least the smallest. */
export function variantWidths(allowed: readonly number[], imageWidth: number | null): number[] {
  const fitting = allowed.filter((width) => imageWidth === null || width <= imageWidth);
  if (fitting.length > 0) return fitting;
  return allowed.length > 0 ? [Math.min(...allowed)] : [];
}

export function variantUrl(origin: string, id: string, width: number): string {
  return `${origin}/image/${encodeURIComponent(id)}?w=${width}&format=auto`;
}

export function srcsetOf(origin: string, image: SizedImage, allowed: readonly number[]): string {
  return variantWidths(allowed, image.width)
    .map((width) => `${variantUrl(origin, image.id, width)} ${width}w`)
    .join(', ');
}

/** The width for `src`, which browsers without srcset use: the first one at least `wanted`, else the widest. */
export function fallbackWidth(widths: readonly number[], wanted: number): number | undefined {
  return widths.find((width) => width >= wanted) ?? widths.at(-1);
}

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' };

function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (character) => ATTRIBUTE_ESCAPES[character] ?? character);
}

export interface SnippetImage extends SizedImage {
  readonly height: number | null;
  readonly alt: string;
}

/** An `<img>` tag to paste into a page, with absolute URLs; the alt text is escaped, as a file name may hold anything. */
export function imgSnippet(origin: string, image: SnippetImage, allowed: readonly number[]): string {
  const widths = variantWidths(allowed, image.width);
  const src = fallbackWidth(widths, 640);
  const attributes: [string, string][] = [
    ['src', src === undefined ? `${origin}/image/${encodeURIComponent(image.id)}` : variantUrl(origin, image.id, src)],
  ];
  if (widths.length > 0) {
    attributes.push(['srcset', srcsetOf(origin, image, allowed)]);
    attributes.push(['sizes', `(max-width: ${src ?? 640}px) 100vw, ${src ?? 640}px`]);
  }
  if (image.width !== null && image.height !== null) {
    attributes.push(['width', String(image.width)], ['height', String(image.height)]);
  }
  attributes.push(['alt', image.alt], ['loading', 'lazy']);
  return `<img ${attributes.map(([name, value]) => `${name}="${escapeAttribute(value)}"`).join(' ')}>`;
}
