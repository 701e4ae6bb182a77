import type { NextFunction, Request, Response } from 'express';
import { RemediatorError } from '../domain/errors.js';

/**
 * At most `limit` request bodies read and handled at once; the rest wait in order, their bytes
 * left in the kernel's socket buffers (TCP pushes back on the sender), and past `maxWaiting` a
 * request is refused at once with a retryable 503. So memory under a burst of large webhooks is
 * bounded by `limit` bodies (and their parsed form), not by the number of connections: 1 MB bodies
 * sent 100 at a time once took the daemon past its 256 MiB Kubernetes limit. A waiting request
 * whose client goes away gives up its place; requestTimeout still bounds how long one may wait.
 */
export function bodyGate(limit: number, maxWaiting = limit * 64): (req: Request, res: Response, next: NextFunction) => void {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    const next = waiting.shift();
    if (next) next();
  };
  return (req, res, next) => {
    const enter = () => {
      active++;
      let done = false;
      const leave = () => {
        if (done) return;
        done = true;
        release();
      };
      res.once('finish', leave);
      res.once('close', leave);
      next();
    };
    if (active < limit) return enter();
    if (waiting.length >= maxWaiting) {
      return next(
        new RemediatorError('overloaded', `${waiting.length} webhook bodies are already waiting to be read: deliver this again in a moment`, {
          retryable: true,
        }),
      );
    }
    const turn = () => {
      res.off('close', gone);
      enter();
    };
    const gone = () => {
      const at = waiting.indexOf(turn);
      if (at >= 0) waiting.splice(at, 1);
    };
    res.once('close', gone);
    waiting.push(turn);
  };
}
