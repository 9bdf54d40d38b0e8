import type { Request, Response } from 'express';
import type { EventStore } from '../adapters/eventstore/port.js';
import type { ReadModel } from '../projections/read-model.js';

/** GET /healthz: 200 while the event store answers and the read model follows the log. */
export function healthHandler(store: EventStore, readModel: ReadModel) {
  return async (_req: Request, res: Response): Promise<void> => {
    try {
      const head = await store.headPosition();
      const failed = readModel.error !== undefined;
      res.status(failed ? 503 : 200).json({
        status: failed ? 'read model stopped' : 'ok',
        eventStore: { head },
        readModel: { position: readModel.position, caughtUp: readModel.isCaughtUp },
      });
    } catch (error) {
      res.status(503).json({ status: 'event store unavailable', error: error instanceof Error ? error.message : String(error) });
    }
  };
}
