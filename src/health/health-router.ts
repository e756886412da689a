import { Router } from 'express';
import type { Db } from 'mongodb';
import { DATABASE_RETRY_AFTER_SECONDS } from '../database/database-errors';
import type { Lifecycle } from './lifecycle';
import { CACHE_POLICY } from '../http/cache-policy';

/** A load balancer probes often and wants a quick answer: a database slower than this is not ready. */
export const READY_PING_TIMEOUT_MS = 1000;

async function databaseAnswers(db: Db): Promise<boolean> {
  try {
    await db.command({ ping: 1 }, { timeoutMS: READY_PING_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** `/healthz`: the process answers. `/readyz`: send it traffic (database reachable, not shutting down). */
export function createHealthRouter(db: Db, lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', CACHE_POLICY.never).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', CACHE_POLICY.never);
    if (lifecycle.shuttingDown) {
      res.status(503).json({ status: 'shutting-down' });
      return;
    }
    if (await databaseAnswers(db)) {
      res.json({ status: 'ready' });
      return;
    }
    // The database may come back (an embedded one is started again): say when to look again.
    res.status(503).set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS)).json({ status: 'not-ready' });
  });
  return router;
}
