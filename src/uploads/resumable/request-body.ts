import type { IncomingMessage } from 'node:http';

/**
 * The request body as a fetch stream that ends, rather than fails, when the client goes away:
 * what arrived before is then stored like any other bytes, where an error would drop what the
 * streams between here and the store still held. Reading pauses the request when the store
 * falls behind, so no more than a chunk or two of it is ever held.
 */
export function bodyEndingWithTheClient(req: IncomingMessage): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const end = () => {
        if (ended) return;
        ended = true;
        // Bytes that arrived while reading was paused wait in the request; its end would drop them.
        for (let part: unknown = req.read(); Buffer.isBuffer(part); part = req.read()) controller.enqueue(part);
        controller.close();
      };
      req.on('data', (part: Buffer) => {
        if (ended) return;
        controller.enqueue(part);
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once('end', end);
      req.once('close', end);
      // A reset connection; its 'close' follows and ends the body.
      req.on('error', () => undefined);
    },
    pull() {
      req.resume();
    },
    cancel() {
      ended = true;
      req.destroy();
    },
  });
}
