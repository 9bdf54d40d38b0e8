// What the control-plane tests share: a real context (SQLite log, read model, commander, saga
// runner) in a temporary directory, a clock that ticks per reading, and refusal assertions.
import { newCommandKey } from '../../../adapters/hypervisor/command-signing.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { MemoryBus } from '../../../adapters/bus/memory-bus.js';
import { ManualClock } from '../../../adapters/clock/manual-clock.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { ControlPlaneContext } from '../../../api/control-plane/context.js';
import { ApiError, type ErrorCode } from '../../../api/control-plane/port.js';
import { projections } from '../../../api/projections.js';
import { ReadModel } from '../../../projections/read-model.js';
import { LeaseManager } from '../../../sagas/leases.js';
import { ScheduleManager } from '../../../sagas/schedules.js';
import { TimerService } from '../../../sagas/timers.js';
import { SagaRunner } from '../../../sagas/runner.js';

/** Time moves a millisecond per reading, so lists ordered by creation time follow the order of the test. */
export class TickingClock extends ManualClock {
  override now(): Date {
    this.advance(1);
    return super.now();
  }
}

export interface TestContext {
  readonly context: ControlPlaneContext;
  readonly store: SqliteEventStore;
  close(): Promise<void>;
}

export async function openTestContext(): Promise<TestContext> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-control-plane-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  const readModel = await ReadModel.open({ store, projections, directory: ':memory:' });
  const commander = new Commander(store);
  const clock = new TickingClock(new Date('2025-01-01T00:00:00Z'));
  const bus = new MemoryBus();
  // The control plane needs a runner; these tests never start a saga.
  const runner = new SagaRunner({ store, commander, readModel: () => readModel.db, bus, clock, random: Math.random, timeouts: { agentMs: 60_000, gracefulStopMs: 30_000 }, commandKeys: { current: newCommandKey() } });
  const timers = new TimerService({ commander, readModel: () => readModel.db, clock });
  const leases = new LeaseManager({ commander, runner, timers, readModel: () => readModel.db, clock });
  const schedules = new ScheduleManager({ commander, runner, timers, readModel: () => readModel.db, clock });
  const context: ControlPlaneContext = { store, commander, readModel, runner, leases, schedules, clock, newId: randomUUID, random: Math.random, readYourWritesMs: 5_000 };
  return {
    context,
    store,
    async close() {
      runner.stop();
      await readModel.close();
      await bus.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ApiError an operation was refused with; fails when it succeeded or failed otherwise. */
export async function refusal(run: () => unknown): Promise<ApiError> {
  const error = await Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${error === undefined ? 'success' : String(error)}`);
  return error;
}

export async function expectRefused(run: () => unknown, code: ErrorCode, field?: string): Promise<ApiError> {
  const error = await refusal(run);
  expect({ code: error.code, field: error.field }, error.message).toEqual({ code, field });
  return error;
}
