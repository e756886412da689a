import type { Readable } from 'node:stream';
import type { NextFunction, Response } from 'express';

/**
 * Pipes a body to the client. A failure before the first byte becomes a normal error
 * response; after it, the only honest signal left is to cut the connection.
 */
export function sendStream(body: Readable, res: Response, next: NextFunction): void {
  body.once('error', (error) => {
    if (res.headersSent) res.destroy(error);
    else next(error);
  });
  res.once('close', () => body.destroy());
  body.pipe(res);
}
