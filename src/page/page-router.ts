import path from 'node:path';
import express, { Router } from 'express';
import { AppError } from '../core/app-error';
import { pageSecurityHeaders } from '../http/page-security';

/** Where `npm run build` puts the page; the same folder from `src/page` (ts-node) and `dist/page`. */
export const PAGE_DIRECTORY = path.resolve(__dirname, '../../dist/public');

/** The page's scripts and styles, under a prefix of their own so that no API route can clash with them. */
export const PAGE_ASSETS_PATH = '/assets';

const pageHeaders = pageSecurityHeaders();

/** The files change with every build and keep their names: browsers ask again each time (a 304 when unchanged). */
const REVALIDATE = 'no-cache';

/** `GET /` and its assets, from the build; before a build, `/` answers 404 saying so. */
export function createPageRouter(directory = PAGE_DIRECTORY): Router {
  const router = Router();
  router.get('/', pageHeaders, (_req, res, next) => {
    res.set('Cache-Control', REVALIDATE).sendFile(path.join(directory, 'index.html'), (error?: NodeJS.ErrnoException) => {
      if (error?.code === 'ENOENT') {
        next(new AppError('route-not-found', 'The web page is not built: `npm run build` makes it.', { cause: error }));
      } else if (error) {
        next(error);
      }
    });
  });
  router.use(
    PAGE_ASSETS_PATH,
    pageHeaders,
    express.static(path.join(directory, 'assets'), {
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.setHeader('Cache-Control', REVALIDATE),
    }),
  );
  return router;
}
