// For random lifecycles at random times, the usage records agree with the instance's own history:
// RUNNING_VM covers exactly the time the instance was up (from reaching Running until reaching
// Stopped, so Stopping and Migrating count, as CloudStack bills them), ALLOCATED_VM exactly the time
// it existed undestroyed, whatever zone cuts them into days; and no piece crosses a midnight.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { InstanceCaller, InstanceCommand, InstanceState } from '../../domain/instance/index.js';
import { ReadModel } from '../../projections/read-model.js';
import { listUsageRecords, usageRecordsProjection, type UsageRecordType, type UsageRecordView } from '../../projections/usage-records/index.js';
import { ID, custom, deploy, medium, nic1, small } from '../unit/instance/fixtures.js';
import { runCommands } from '../unit/usage/domain-run.js';

const ZONES = ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago'];
/** 2025's changes in ZONES: US, EU, Chile and Lord Howe (both ways), Chatham. */
const DST_CHANGES = ['2025-03-09', '2025-03-30', '2025-04-06', '2025-09-07', '2025-09-28', '2025-10-05', '2025-10-26', '2025-11-02'];
const KINDS = ['start', 'startOk', 'startFail', 'stop', 'stopOk', 'stopFail', 'report', 'migrate', 'migrateOk', 'scale', 'scaleOk', 'upgrade', 'destroy', 'recover'] as const;
type Kind = (typeof KINDS)[number];

interface Step {
  /** `advance` takes the instance's natural next step (finish what is pending, start what is stopped…). */
  readonly kind: Kind | 'advance';
  readonly pick: number;
  /** Milliseconds after the previous command: from 0 to several days, so runs cross midnights and DST changes. */
  readonly gapMs: number;
  readonly flag: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.oneof({ arbitrary: fc.constant('advance' as const), weight: 3 }, { arbitrary: fc.constantFrom(...KINDS), weight: 1 }),
  pick: fc.nat(9),
  gapMs: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 6 * 3_600_000 }), fc.integer({ min: 0, max: 4 * 86_400_000 })),
  flag: fc.boolean(),
});

const runArb = fc.record({
  // Anywhere in 2025, or (half of the runs) within days of a daylight-saving change of one of the zones.
  startMs: fc.oneof(
    fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2025, 11, 1) }),
    fc.tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -3 * 86_400_000, max: 86_400_000 })).map(([day, offset]) => Date.parse(day) + offset),
  ),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40 }),
  tailMs: fc.integer({ min: 0, max: 3 * 86_400_000 }),
  /** Where the query window ends, in thousandths of the run (past its end half of the time). */
  windowCut: fc.oneof(fc.constant(1000), fc.integer({ min: 1, max: 1000 })),
});

const admin: InstanceCaller = { role: 'ROOT_ADMIN', accountId: 'acct-admin' };

function naturalNext(state: InstanceState, pick: number): Kind {
  if (!state.exists) return 'start';
  switch (state.state) {
    case 'Stopped':
      return (['start', 'start', 'start', 'upgrade', 'destroy'] as const)[pick % 5]!;
    case 'Starting':
      return pick === 0 ? 'startFail' : 'startOk';
    case 'Running':
      if (state.pending) return 'scaleOk';
      return (['stop', 'stop', 'migrate', 'scale', 'report', 'destroy'] as const)[pick % 6]!;
    case 'Stopping':
      return pick === 0 ? 'stopFail' : 'stopOk';
    case 'Migrating':
      return 'migrateOk';
    case 'Destroyed':
      return 'recover';
    default:
      return 'start';
  }
}

function commandFor(step: Step, instanceId: string, state: InstanceState, at: string, n: number): InstanceCommand {
  const base = { instanceId, at };
  const job = state.exists ? (state.pending?.jobId ?? `job-${n}`) : `job-${n}`;
  const kind = step.kind === 'advance' ? naturalNext(state, step.pick) : step.kind;
  switch (kind) {
    case 'start':
      return { type: 'StartInstance', ...base, caller: admin, jobId: `job-${n}`, considerLastHost: true };
    case 'startOk':
      return { type: 'RecordStartSucceeded', ...base, jobId: job, hostId: ID.host1 };
    case 'startFail':
      return { type: 'RecordStartFailed', ...base, jobId: job, reason: 'failed' };
    case 'stop':
      return { type: 'StopInstance', ...base, caller: admin, jobId: `job-${n}`, forced: step.flag };
    case 'stopOk':
      return { type: 'RecordStopSucceeded', ...base, jobId: job };
    case 'stopFail':
      return { type: 'RecordStopFailed', ...base, jobId: job, reason: 'failed' };
    case 'report':
      return { type: 'RecordAgentReport', ...base, hostId: ID.host1, powerState: step.flag ? 'running' : 'stopped' };
    case 'migrate':
      return { type: 'MigrateInstance', ...base, caller: admin, jobId: `job-${n}`, targetHostId: ID.host2 };
    case 'migrateOk':
      return { type: 'RecordMigrationSucceeded', ...base, jobId: job, hostId: ID.host2 };
    case 'scale':
      return {
        type: 'ScaleInstance',
        ...base,
        caller: admin,
        jobId: `job-${n}`,
        enableDynamicScaleVm: true,
        ...(step.flag ? { serviceOffering: custom, customCompute: { cpuNumber: 1 + (n % 4), memory: 1024 } } : { serviceOffering: n % 2 ? medium : small }),
      };
    case 'scaleOk':
      return { type: 'RecordScaleSucceeded', ...base, jobId: job };
    case 'upgrade':
      return { type: 'ChangeServiceOffering', ...base, caller: admin, serviceOffering: step.flag ? medium : small };
    case 'destroy':
      return { type: 'DestroyInstance', ...base, caller: admin, jobId: `job-${n}`, expunge: false, volumeIds: [], forceStop: step.flag, allowUserExpungeRecoverVm: true };
    case 'recover':
      return { type: 'RecoverInstance', ...base, caller: admin, allowUserExpungeRecoverVm: true };
  }
}

const up = (state: InstanceState) => state.exists && ['Running', 'Stopping', 'Migrating'].includes(state.state);
const allocated = (state: InstanceState) => state.exists && !['Destroyed', 'Expunging', 'Error'].includes(state.state);

/** Milliseconds in [from, to) during which `holds` was true of the instance, from its states alone. */
function timeWhere(history: ReadonlyArray<{ atMs: number; state: InstanceState }>, holds: (s: InstanceState) => boolean, from: number, to: number): number {
  let total = 0;
  history.forEach(({ atMs, state }, i) => {
    if (!holds(state)) return;
    const end = history[i + 1]?.atMs ?? Number.POSITIVE_INFINITY;
    total += Math.max(0, Math.min(end, to) - Math.max(atMs, from));
  });
  return total;
}

describe('usage records against the instance history', () => {
  let dir: string;
  let store: SqliteEventStore;
  let model: ReadModel;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-usage-property-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
    model = await ReadModel.open({ store, projections: [usageRecordsProjection], directory: ':memory:' });
  });
  afterAll(async () => {
    await model.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bills RUNNING_VM and ALLOCATED_VM for exactly the time the instance was up and allocated, in every zone', async () => {
    let runs = 0;
    let billedRunning = 0;
    let acrossMidnight = 0;
    await fc.assert(
      fc.asyncProperty(runArb, async (run) => {
        const instanceId = randomUUID();
        const accountId = `acct-${randomUUID()}`;
        let atMs = run.startMs;
        const first = deploy({ instanceId, accountId, caller: admin, at: new Date(atMs).toISOString(), nics: [nic1], startVm: false });
        const history: Array<{ atMs: number; state: InstanceState }> = [];
        const deployed = (await runCommands(store, [first]))[0]!;
        let state: InstanceState = deployed.state;
        history.push({ atMs, state });
        let last = Math.max(...deployed.positions);
        for (const [n, step] of run.steps.entries()) {
          atMs += step.gapMs;
          const applied = await runCommands(store, [commandFor(step, instanceId, state, new Date(atMs).toISOString(), n)]);
          if (applied.length === 0 || applied[0]!.events.length === 0) continue;
          state = applied[0]!.state;
          last = Math.max(last, ...applied[0]!.positions);
          history.push({ atMs, state });
        }
        expect(await model.waitForPosition(last, 10_000)).toBe(true);

        const nowMs = atMs + run.tailMs;
        const windowStart = run.startMs - 86_400_000;
        const windowEnd = run.startMs + Math.round(((nowMs + 86_400_000 - run.startMs) * run.windowCut) / 1000) + 1;
        for (const zone of ZONES) {
          const records = (type: UsageRecordType) => everyRecord(model, accountId, type, windowStart, windowEnd, zone, nowMs);
          const running = records('RUNNING_VM');
          if (zone === 'UTC' && running.length > 0) billedRunning++;
          if (zone === 'UTC' && new Set(running.map((r) => r.openedBy)).size < running.length) acrossMidnight++;
          expect(sum(running), `RUNNING_VM in ${zone}`).toBe(timeWhere(history, up, windowStart, Math.min(windowEnd, nowMs)));
          expect(sum(records('ALLOCATED_VM')), `ALLOCATED_VM in ${zone}`).toBe(timeWhere(history, allocated, windowStart, Math.min(windowEnd, nowMs)));
          running.forEach((piece, i) => {
            const start = DateTime.fromISO(piece.startDate, { zone });
            const end = DateTime.fromMillis(Date.parse(piece.startDate) + piece.durationMs - 1, { zone });
            expect(end.startOf('day').toMillis(), `${piece.startDate} +${piece.durationMs} ms in ${zone}`).toBe(start.startOf('day').toMillis());
            // The next piece of the same interval begins where this one ends, at a midnight of the zone.
            const next = running[i + 1];
            if (next?.openedBy === piece.openedBy) {
              expect(Date.parse(next.startDate)).toBe(Date.parse(piece.startDate) + piece.durationMs);
              expect(DateTime.fromISO(next.startDate, { zone }).startOf('day').toISO()).toBe(DateTime.fromISO(next.startDate, { zone }).toISO());
            }
          });
        }
        runs++;
      }),
      { numRuns: 100 },
    );
    expect(runs).toBe(100);
    // The runs exercise what they claim to: instances that ran, and intervals cut at midnight.
    expect(billedRunning).toBeGreaterThan(25);
    expect(acrossMidnight).toBeGreaterThan(10);
  }, 120_000);
});

function everyRecord(model: ReadModel, accountId: string, type: UsageRecordType, from: number, to: number, zone: string, nowMs: number): UsageRecordView[] {
  const all: UsageRecordView[] = [];
  for (let after: string | null = null; ; ) {
    const page = listUsageRecords(
      model.db,
      { kind: 'all' },
      { accountId, type, startDate: new Date(from).toISOString(), endDate: new Date(to).toISOString() },
      { first: 500, after },
      { timeZone: zone, nowMs },
    );
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
}

function sum(records: readonly UsageRecordView[]): number {
  return records.reduce((total, record) => total + record.durationMs, 0);
}
