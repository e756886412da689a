import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BodyIdleTimer {
  stop(): void;
}

/**
 * Calls `onIdle` once the body has sent nothing for `timeoutMs` while the server was ready
 * for more. The clock does not run out while the body is paused: then the server (a slow
 * database, through backpressure) is keeping the client waiting, not the other way round.
 * It stops when the body ends, the request closes, or the answer is out: a request answered
 * before its body was read to the end (a refused one) is over too.
 */
export function watchBodyIdle(req: IncomingMessage, res: ServerResponse, timeoutMs: number, onIdle: () => void): BodyIdleTimer {
  let paused = false;
  const timer = setTimeout(() => {
    if (paused) {
      timer.refresh();
      return;
    }
    stop();
    onIdle();
  }, timeoutMs);
  const restart = () => {
    paused = false;
    timer.refresh();
  };
  const pause = () => {
    paused = true;
  };
  const stop = () => {
    clearTimeout(timer);
    req.off('data', restart).off('resume', restart).off('pause', pause).off('end', stop).off('close', stop);
    res.off('close', stop);
  };
  req.on('data', restart).on('resume', restart).on('pause', pause).once('end', stop).once('close', stop);
  res.once('close', stop);
  return { stop };
}
