import path from 'node:path';
import express, { Router } from 'express';
import { openApiDocument } from './openapi-document';

/**
 * Found by its package file: the package's own entry point loads Swagger UI's whole browser
 * bundle into the server, about 24 MiB of memory for files that are only ever sent.
 */
const SWAGGER_UI_FILES = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The page is ours; Swagger UI's own files are served as they ship. */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>image-api</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });</script>
</body>
</html>
`;

/** `/openapi.json` and Swagger UI at `/docs`, served from the installed package: no CDN. */
export function createDocsRouter(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  router.use('/docs', express.static(SWAGGER_UI_FILES, { index: false, maxAge: '1d' }));
  return router;
}
