// usageRecords through GraphQL and the control plane, on a log the stack wrote: the records of real
// instances, the caller's visibility, the window's validation and the usage.timezone setting.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../api/control-plane/port.js';
import { buildExecutableSchema } from '../../../api/graphql/executable-schema.js';
import { graphql } from '../../../api/graphql/graphql-js.js';
import { instanceStream, usageEventType } from '../../../domain/instance/index.js';
import type { UsageRecordView } from '../../../projections/usage-records/index.js';
import { buildStackLog, type StackLog } from '../audit/stack-log.js';
import { payload } from './usage-log.js';

const schema = buildExecutableSchema();

describe('usageRecords', () => {
  let log: StackLog;
  const window = { startDate: '2000-01-01T00:00:00Z', endDate: '2100-01-01T00:00:00Z', first: 500 };
  beforeAll(async () => {
    log = await buildStackLog();
  }, 60_000);
  afterAll(async () => {
    await log?.stop();
    log?.remove();
  });

  async function query(caller: StackLog['admin'], variables: Record<string, unknown>) {
    const result = await graphql({
      schema,
      source: `query($accountId: ID, $startDate: DateTime!, $endDate: DateTime!, $type: UsageRecordType, $first: Int) {
        usageRecords(accountId: $accountId, startDate: $startDate, endDate: $endDate, type: $type, first: $first) {
          nodes { id type usageType accountId resourceId resourceName offeringId templateId size startDate endDate durationMs openedBy closedBy }
          totalCount
        }
      }`,
      variableValues: variables,
      contextValue: { caller, controlPlane: log.controlPlane },
    });
    return result as { data?: { usageRecords: { nodes: UsageRecordView[]; totalCount: number } } | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };
  }

  it('bills the instances the stack ran, with every record type they produce', async () => {
    const { data, errors } = await query(log.admin, window);
    expect(errors).toBeUndefined();
    const records = data!.usageRecords.nodes;
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(['RUNNING_VM', 'ALLOCATED_VM', 'VOLUME', 'NETWORK_OFFERING']));
    const running = records.filter((r) => r.resourceId === log.instances.running && r.type === 'RUNNING_VM');
    // Started, stopped, re-offered while stopped, started again: two intervals, the last one open.
    expect(running.map((r) => [r.offeringId, r.endDate === null])).toEqual([
      [log.demo.serviceOfferingIds.small, false],
      [log.demo.serviceOfferingIds.medium, true],
    ]);
    const destroyed = records.filter((r) => r.resourceId === log.instances.destroyed && r.type === 'ALLOCATED_VM');
    expect(destroyed).toHaveLength(1);
    expect(destroyed[0]!.closedBy).not.toBeNull();
    expect(destroyed[0]!.usageType).toBe(2);
  });

  it('shows a user its own account only, whatever accountId it asks for', async () => {
    const mine = (await query(log.user, window)).data!.usageRecords.nodes;
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((r) => r.accountId))).toEqual(new Set([log.user.accountId]));
    expect((await query(log.user, { ...window, accountId: log.admin.accountId })).data!.usageRecords.totalCount).toBe(0);
    const forUser = (await query(log.admin, { ...window, accountId: log.user.accountId, type: 'RUNNING_VM' })).data!.usageRecords.nodes;
    expect(forUser.map((r) => r.resourceId)).toEqual([log.instances.users]);
  });

  it('refuses a window that ends before it starts, naming the argument', async () => {
    const { errors } = await query(log.admin, { startDate: '2025-03-02T00:00:00Z', endDate: '2025-03-01T00:00:00Z' });
    const error = (errors?.[0] as { originalError?: unknown } | undefined)?.originalError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endDate' });
    expect(() => log.controlPlane.usageRecords(log.admin, { startDate: 'x', endDate: '2025-03-01T00:00:00Z' })).toThrow(ApiError);
  });

  it('cuts records at midnights of usage.timezone', async () => {
    // An allocation of days ago, as the log of a long-running cloud holds it.
    const instanceId = randomUUID();
    const appended = await log.store.append(
      instanceStream(instanceId),
      [{ id: randomUUID(), type: usageEventType('VM.CREATE'), data: { ...payload({ resourceId: instanceId, accountId: 'acct-old' }), occurredAt: '2025-03-01T10:00:00.000Z' } }],
      'no_stream',
    );
    await log.stack.readModel.waitForPosition(appended.positions[0]!, 5000);
    const cuts = async () =>
      (await query(log.admin, { startDate: '2025-03-01T00:00:00Z', endDate: '2025-03-03T00:00:00Z', accountId: 'acct-old' })).data!.usageRecords.nodes.map(
        (r) => [r.startDate, r.durationMs / 3_600_000],
      );
    await log.controlPlane.updateConfiguration(log.admin, { name: 'usage.timezone', value: 'Asia/Kolkata' });
    expect(await cuts()).toEqual([
      ['2025-03-01T10:00:00.000Z', 8.5],
      ['2025-03-01T18:30:00.000Z', 24],
      ['2025-03-02T18:30:00.000Z', 5.5],
    ]);
    await log.controlPlane.updateConfiguration(log.admin, { name: 'usage.timezone', value: 'UTC' });
    expect(await cuts()).toEqual([
      ['2025-03-01T10:00:00.000Z', 14],
      ['2025-03-02T00:00:00.000Z', 24],
    ]);
    await expect(log.controlPlane.updateConfiguration(log.admin, { name: 'usage.timezone', value: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
