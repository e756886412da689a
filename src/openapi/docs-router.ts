import { createHash } from 'node:crypto';
import path from 'node:path';
import express, { Router } from 'express';
import { pageSecurityHeaders } from '../http/page-security';
import { CACHE_POLICY, revalidatable, sendRevalidatable } from '../http/cache-policy';

/**
 * Found by its package file: the package's own entry point loads Swagger UI's whole browser
 * bundle into the server, about 24 MiB of memory for files that are only ever sent.
 */
const SWAGGER_UI_FILES = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The page's one inline script, allowed by its hash and by nothing else. */
const START_SWAGGER_UI = "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });";

/** The page is ours; Swagger UI's own files are served as they ship. */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>image-api</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>${START_SWAGGER_UI}</script>
</body>
</html>
`;

const START_SWAGGER_UI_HASH = `'sha256-${createHash('sha256').update(START_SWAGGER_UI).digest('base64')}'`;

/** No framing: "Try it out" may carry a key, and a framed page could be clicked on unseen. */
const docsPageHeaders = pageSecurityHeaders([START_SWAGGER_UI_HASH]);

/** `/openapi.json` and Swagger UI at `/docs`, served from the installed package: no CDN. */
export function createDocsRouter(openApiDocument: object): Router {
  const document = revalidatable(JSON.stringify(openApiDocument));
  const page = revalidatable(DOCS_PAGE);
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    sendRevalidatable(res.type('json'), document, CACHE_POLICY.revalidate);
  });
  router.get('/docs', docsPageHeaders, (_req, res) => {
    sendRevalidatable(res.type('html'), page, CACHE_POLICY.revalidate);
  });
  router.use('/docs', express.static(SWAGGER_UI_FILES, { index: false, maxAge: '1d' }));
  return router;
}
