/**
 * C0 and C1 controls (CR and LF among them) and the bidirectional marks, embeddings, overrides
 * and isolates: in a name shown by a listing, a log or a terminal they could break lines or make
 * `photo<U+202E>gnp.exe` read as `photoexe.png`.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** The client's file name as it is stored and listed: each unsafe character becomes U+FFFD, so that its place still shows. */
export function storedFilename(name: string): string {
  return name.replace(UNSAFE_CHARACTERS, '\uFFFD');
}
