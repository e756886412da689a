/**
 * What a client should know before it uploads or builds read URLs; never a key, only whether
 * one is needed. The web page imports this type too, so it has no imports of its own.
 */
export interface ClientSettings {
  readonly apiKeyRequired: boolean;
  readonly maxFileSize: number;
  /** Media types, as a file picker's `accept` takes them. */
  readonly allowedTypes: readonly string[];
  /** The widths (and heights) an unsigned read URL may ask a variant in. */
  readonly variantSizes: readonly number[];
  readonly signedUrlsRequired: boolean;
}
