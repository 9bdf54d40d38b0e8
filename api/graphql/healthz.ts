import type { Request, RequestHandler, Response } from 'express';
import type { ControlPlane } from '../control-plane/port.js';
import type { ErrorLogger } from './errors.js';

/** GET /healthz: 200 when the log, the bus and the read model are up, 503 otherwise; no auth, so no error details. */
export function healthzHandler(controlPlane: ControlPlane, logger: ErrorLogger): RequestHandler {
  return async (_req: Request, res: Response): Promise<void> => {
    res.setHeader('cache-control', 'no-store');
    try {
      const { ok, detail } = await controlPlane.health();
      res.status(ok ? 200 : 503).json({ ...detail, status: ok ? 'ok' : 'unavailable' });
    } catch (error) {
      logger.error('health check failed', error);
      res.status(503).json({ status: 'unavailable' });
    }
  };
}
