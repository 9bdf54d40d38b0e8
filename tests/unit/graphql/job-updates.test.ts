// The subscription's source stream, against the two port methods it uses.
import { describe, expect, it } from 'vitest';
import { ApiError, type Caller, type ControlPlane, type JobView } from '../../../api/control-plane/port.js';
import { jobUpdates } from '../../../api/graphql/resolvers/job-updates.js';

const caller: Caller = { userId: 'u-1', accountId: 'a-1', role: 'USER', domainId: 'd-1', domainPath: '/' };

function job(patch: Partial<JobView> = {}): JobView {
  return {
    id: 'job-1',
    cmd: 'startVirtualMachine',
    status: 'PENDING',
    progress: 0,
    step: null,
    resourceType: 'VirtualMachine',
    resourceId: 'vm-1',
    createdAt: '2025-01-31T12:00:00.000Z',
    completedAt: null,
    error: null,
    result: null,
    instanceId: 'vm-1',
    accountId: 'a-1',
    ...patch,
  };
}

function jobs(current: JobView | undefined) {
  const listeners = new Set<(job: JobView) => void>();
  const port: Pick<ControlPlane, 'asyncJob' | 'onJobUpdated'> = {
    asyncJob: () => current,
    onJobUpdated: (_caller, _id, listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { port, listeners, emit: (update: JobView) => [...listeners].forEach((listener) => listener(update)) };
}

describe('jobUpdates', () => {
  it('emits the current state first, then each change, and ends after a terminal status', async () => {
    const { port, listeners, emit } = jobs(job());
    const updates = jobUpdates(port, caller, 'job-1');
    expect(await updates.next()).toEqual({ done: false, value: job() });
    const pending = updates.next();
    emit(job({ progress: 50 }));
    expect(await pending).toEqual({ done: false, value: job({ progress: 50 }) });
    emit(job({ progress: 50 }));
    emit(job({ status: 'SUCCEEDED', progress: 100, completedAt: '2025-01-31T12:01:00.000Z' }));
    expect((await updates.next()).value?.status).toBe('SUCCEEDED');
    expect(listeners.size).toBe(0);
    expect(await updates.next()).toEqual({ done: true, value: undefined });
  });

  it('unsubscribes when the reader leaves, also while it waits', async () => {
    const { port, listeners } = jobs(job());
    const updates = jobUpdates(port, caller, 'job-1');
    await updates.next();
    const waiting = updates.next();
    expect(listeners.size).toBe(1);
    await updates.return?.();
    expect(listeners.size).toBe(0);
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('emits a finished job once and ends', async () => {
    const { port, listeners } = jobs(job({ status: 'FAILED', error: { code: 'INSUFFICIENT_CAPACITY', errorCode: 533, message: 'no host' } }));
    const updates = jobUpdates(port, caller, 'job-1');
    expect((await updates.next()).value?.status).toBe('FAILED');
    expect(await updates.next()).toEqual({ done: true, value: undefined });
    expect(listeners.size).toBe(0);
  });

  it('refuses an unknown job with NOT_FOUND on id, leaving no listener behind', () => {
    const { port, listeners } = jobs(undefined);
    expect(() => jobUpdates(port, caller, 'job-404')).toThrow(ApiError);
    try {
      jobUpdates(port, caller, 'job-404');
    } catch (error) {
      expect(error).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
      expect((error as Error).message).toContain('"job-404"');
    }
    expect(listeners.size).toBe(0);
  });
});
