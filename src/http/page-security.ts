import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The headers of an HTML page of ours, and only of pages: API answers keep theirs (images stay
 * readable cross-origin). Scripts come from this origin only, plus the inline ones named in
 * `inlineScriptHashes` ('sha256-…'), and the page may not be framed. Styles are this origin's
 * files too: Uppy and Swagger UI set their inline styles through the DOM, which `style-src` does
 * not govern. `data:` images are the icons in their CSS and the empty favicon. HSTS is left to
 * whatever terminates TLS in front of the API.
 */
export function pageSecurityHeaders(inlineScriptHashes: readonly string[] = []): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...inlineScriptHashes],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
  });
}
