// The source stream of `asyncJobUpdated`: the job as it is now, then every change the control plane
// reports, ending after a terminal status. Whoever stops reading (client `complete`, socket closed,
// server stopping) calls `return()`, which unsubscribes at once.
import { ApiError, type Caller, type ControlPlane, type JobView } from '../../control-plane/port.js';

function isTerminal(job: JobView): boolean {
  return job.status === 'SUCCEEDED' || job.status === 'FAILED';
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export function jobUpdates(controlPlane: Pick<ControlPlane, 'asyncJob' | 'onJobUpdated'>, caller: Caller, id: string): AsyncIterableIterator<JobView> {
  const pending: JobView[] = [];
  let waiting: ((result: IteratorResult<JobView, undefined>) => void) | undefined;
  let ready = false;
  let accepting = true;
  let lastAccepted: string | undefined;
  let unsubscribed = false;

  // Subscribing before reading the current state, with nothing async in between, means no change
  // can fall between the two; whatever is reported before the read is part of what the read returns.
  const unsubscribe = controlPlane.onJobUpdated(caller, id, (job) => {
    if (ready) accept(job);
  });
  function stopListening(): void {
    if (unsubscribed) return;
    unsubscribed = true;
    unsubscribe();
  }

  function accept(job: JobView): void {
    if (!accepting) return;
    // A report that changes nothing a client sees is not a change.
    const key = JSON.stringify(job);
    if (key === lastAccepted) return;
    lastAccepted = key;
    if (isTerminal(job)) {
      accepting = false;
      stopListening();
    }
    const wake = waiting;
    waiting = undefined;
    if (wake) wake({ done: false, value: job });
    else pending.push(job);
  }

  let current: JobView | undefined;
  try {
    current = controlPlane.asyncJob(caller, id);
  } catch (error) {
    stopListening();
    throw error;
  }
  if (!current) {
    stopListening();
    throw new ApiError('NOT_FOUND', `async job ${JSON.stringify(id)} does not exist or is not visible to the caller`, 'id');
  }
  ready = true;
  accept(current);

  function close(): void {
    accepting = false;
    pending.length = 0;
    stopListening();
    const wake = waiting;
    waiting = undefined;
    wake?.(DONE);
  }

  const iterator: AsyncIterableIterator<JobView> = {
    next() {
      const job = pending.shift();
      if (job) return Promise.resolve({ done: false, value: job });
      if (!accepting) return Promise.resolve(DONE);
      return new Promise<IteratorResult<JobView, undefined>>((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      close();
      return Promise.resolve(DONE);
    },
    throw(error?: unknown) {
      close();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
