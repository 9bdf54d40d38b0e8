import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../../../adapters/eventstore/command-handler.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { USAGE_EVENT_PREFIX, instanceDecider, instanceStream, type InstanceCommand } from '../../../domain/instance/index.js';
import { eventsProjection } from '../../../projections/events/projection.js';
import { listEvents } from '../../../projections/events/queries.js';
import { instancesProjection } from '../../../projections/instances/projection.js';
import { accountInstancesPerHost, getInstance, listInstances } from '../../../projections/instances/queries.js';
import { InvalidPageRequestError } from '../../../projections/pagination.js';
import { ReadModel } from '../../../projections/read-model.js';
import { usageEventsProjection } from '../../../projections/usage/projection.js';
import { listUsageEvents } from '../../../projections/usage/queries.js';
import type { Visibility } from '../../../projections/visibility.js';
import { AT, LATER, ID, deploy, nic2, owner, rootAdmin } from '../instance/fixtures.js';

const all: Visibility = { kind: 'all' };
const projections = [instancesProjection, eventsProjection, usageEventsProjection];

describe('instance, events and usage read models', () => {
  let dir: string;
  let store: SqliteEventStore;
  let model: ReadModel;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-instances-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    model = await ReadModel.open({ store, projections, directory: ':memory:' });
  });
  afterEach(async () => {
    await model.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs commands through the real command handler and waits until the read model has them. */
  async function run(instanceId: string, ...commands: InstanceCommand[]): Promise<void> {
    let last = 0;
    for (const command of commands) {
      const result = await handleCommand(store, {
        stream: instanceStream(instanceId),
        decider: instanceDecider,
        command,
        envelope: { actor: { kind: 'user', userId: 'u-1', accountId: owner.accountId, role: 'USER' }, correlationId: 'c', occurredAt: command.at },
        newEventId: randomUUID,
      });
      last = result.positions.at(-1) ?? last;
    }
    expect(await model.waitForPosition(last, 5000)).toBe(true);
  }

  const vm2 = '6c1f5f0e-0000-4000-8000-000000000002';
  const deployAndRun = async () => {
    await run(
      ID.vm,
      deploy({ nics: [{ ...nic2, isDefault: true, deviceId: 0 }] }),
      { type: 'StartInstance', instanceId: ID.vm, at: AT, caller: owner, jobId: 'job-start', considerLastHost: true },
      { type: 'RecordStartSucceeded', instanceId: ID.vm, at: LATER, jobId: 'job-start', hostId: ID.host1 },
    );
  };

  it('shows an instance as API.md describes it, through its lifecycle', async () => {
    await deployAndRun();
    const vm = getInstance(model.db, all, ID.vm)!;
    expect(vm).toMatchObject({
      id: ID.vm,
      name: 'web-1',
      displayName: 'Web server',
      instanceName: 'i-alice-web-1',
      state: 'Running',
      hostId: ID.host1,
      lastHostId: ID.host1,
      serviceOfferingId: 'so-small',
      templateId: 'tmpl-debian',
      accountId: ID.account,
      cpuNumber: 1,
      cpuSpeed: 500,
      memory: 512,
      deleteProtection: false,
      created: AT,
    });
    expect(vm.nics).toEqual([{ id: ID.nic2, networkId: ID.net2, macAddress: '02:00:00:00:00:02', ipAddress: '10.1.0.10', isDefault: true, deviceId: 0 }]);
    expect(vm.volumes).toEqual([{ id: ID.root, name: 'ROOT-web-1', type: 'ROOT', size: 2 * 1024 ** 3, storagePoolId: ID.pool, state: 'Ready' }]);
  });

  it('finds a keyword anywhere in the name or display name, case-insensitively, as it is renamed', async () => {
    const third = '6c1f5f0e-0000-4000-8000-000000000003';
    await deployAndRun();
    await run(vm2, deploy({ instanceId: vm2, name: 'db-1', displayName: 'Database "main" 100%_ÉLAN', accountId: 'acct-bob', caller: rootAdmin, at: LATER }));
    await run(third, deploy({ instanceId: third, name: 'web-2', displayName: 'Front', accountId: 'acct-bob', caller: rootAdmin, at: LATER }));
    const found = (keyword: string) => listInstances(model.db, all, { keyword }, {}).nodes.map((v) => v.id);
    expect(found('WEB-')).toEqual([ID.vm, third]);
    expect(found('eb')).toEqual([ID.vm, third]);
    expect(found('b-1')).toEqual([ID.vm, vm2]);
    expect(found('"main"')).toEqual([vm2]);
    expect(found('100%_')).toEqual([vm2]);
    expect(found('0%')).toEqual([vm2]);
    expect(found('élan')).toEqual([vm2]);
    expect(found('web OR db')).toEqual([]);
    expect(found('web-1x')).toEqual([]);
    expect(listInstances(model.db, all, { keyword: 'front', accountId: 'acct-bob' }, {}).totalCount).toBe(1);
    // An expunged instance is not found, a renamed one by its new name only.
    await run(third, { type: 'UpdateInstance', instanceId: third, at: LATER, caller: rootAdmin, displayName: 'Backend', userDeniedDetails: [], userReadOnlyDetails: [], enableDynamicScaleVm: false } as InstanceCommand);
    expect(found('front')).toEqual([]);
    expect(found('BACKEND')).toEqual([third]);
  });

  it('answers a keyword through its index and counts a filtered list from an index alone', async () => {
    await deployAndRun();
    // The statements the lists prepare, planned as SQLite will run them.
    const statements: string[] = [];
    const prepare = model.db.prepare.bind(model.db);
    model.db.prepare = ((sql: string) => {
      statements.push(sql);
      return prepare(sql);
    }) as typeof model.db.prepare;
    const plan = (list: () => unknown) => {
      statements.length = 0;
      list();
      return statements.flatMap((sql) => {
        const params = Array.from({ length: sql.split('?').length - 1 }, () => null);
        return (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail);
      });
    };
    const keyword = plan(() => listInstances(model.db, all, { keyword: 'web-1' }, {}));
    // Started from the index's matches: each looked up by its rowid, not the list walked to test every row.
    expect(keyword.filter((detail) => /^(SCAN|SEARCH) instances USING (COVERING )?INDEX/.test(detail) || /^SCAN instances\b/.test(detail))).toEqual([]);
    expect(keyword.filter((detail) => detail.includes('instances_keyword')).length).toBeGreaterThan(0);
    expect(keyword.filter((detail) => detail.startsWith('SEARCH instances USING INTEGER PRIMARY KEY')).length).toBeGreaterThan(0);
    const domains: Visibility = { kind: 'domains', domainIds: [ID.domain] };
    const filtered = plan(() => listInstances(model.db, domains, { accountId: ID.account, state: 'Running' }, {}));
    expect(filtered[0]).toMatch(/USING COVERING INDEX instances_by_account_state/);
    expect(filtered.filter((detail) => /^SCAN instances\b/.test(detail))).toEqual([]);
  });

  it('lists with filters, visibility and cursor pages, and hides expunged instances', async () => {
    await deployAndRun();
    await run(vm2, deploy({ instanceId: vm2, name: 'db-1', displayName: 'Database', accountId: 'acct-bob', caller: rootAdmin, at: LATER }));
    expect(listInstances(model.db, all, {}, {}).totalCount).toBe(2);
    expect(listInstances(model.db, all, { state: 'Running' }, {}).nodes.map((v) => v.id)).toEqual([ID.vm]);
    expect(listInstances(model.db, all, { hostId: ID.host1 }, {}).nodes.map((v) => v.id)).toEqual([ID.vm]);
    expect(listInstances(model.db, all, { keyword: 'DATA' }, {}).nodes.map((v) => v.id)).toEqual([vm2]);
    expect(listInstances(model.db, all, { ids: [vm2, 'nope'] }, {}).nodes.map((v) => v.id)).toEqual([vm2]);
    expect(listInstances(model.db, { kind: 'account', accountId: 'acct-bob' }, {}, {}).nodes.map((v) => v.id)).toEqual([vm2]);
    expect(listInstances(model.db, { kind: 'domains', domainIds: ['dom-other'] }, {}, {}).totalCount).toBe(0);
    expect(getInstance(model.db, { kind: 'account', accountId: 'acct-bob' }, ID.vm)).toBeUndefined();

    const first = listInstances(model.db, all, {}, { first: 1 });
    expect(first.nodes.map((v) => v.id)).toEqual([ID.vm]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = listInstances(model.db, all, {}, { first: 1, after: first.pageInfo.endCursor });
    expect(second.nodes.map((v) => v.id)).toEqual([vm2]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(() => listInstances(model.db, all, {}, { after: 'garbage' })).toThrow(InvalidPageRequestError);
    expect(() => listInstances(model.db, all, {}, { first: 100_000 })).toThrow(InvalidPageRequestError);

    await run(
      vm2,
      { type: 'DestroyInstance', instanceId: vm2, at: LATER, caller: rootAdmin, jobId: 'job-d', expunge: true, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: false },
      { type: 'RecordExpunged', instanceId: vm2, at: LATER, jobId: 'job-d' } as InstanceCommand,
    );
    expect(listInstances(model.db, all, {}, {}).nodes.map((v) => v.id)).toEqual([ID.vm]);
    expect(getInstance(model.db, all, vm2)).toBeUndefined();
    expect(accountInstancesPerHost(model.db, ID.account)).toEqual(new Map([[ID.host1, 1]]));
  });

  it('records CloudStack action events with actor and time, oldest first', async () => {
    await deployAndRun();
    const events = listEvents(model.db, all, { resourceId: ID.vm }, {});
    expect(events.nodes.map((e) => [e.type, e.state, e.level])).toEqual([
      ['VM.CREATE', 'Completed', 'INFO'],
      ['VM.START', 'Started', 'INFO'],
      ['VM.START', 'Completed', 'INFO'],
    ]);
    expect(events.nodes[0]!.actor).toEqual({ kind: 'user', userId: 'u-1', accountId: owner.accountId, role: 'USER' });
    expect(events.nodes[2]!.occurredAt).toBe(LATER);
    expect(listEvents(model.db, all, { type: 'VM.START', startDate: LATER }, {}).totalCount).toBe(1);
    expect(listEvents(model.db, { kind: 'account', accountId: 'acct-bob' }, {}, {}).totalCount).toBe(0);
  });

  it('lists usage events as the log holds them, with position and event id', async () => {
    await deployAndRun();
    const usage = listUsageEvents(model.db, all, { accountId: ID.account }, {});
    expect(usage.nodes.map((u) => u.type)).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START']);
    const logged = await store.readAll({ filter: { eventTypePrefixes: [USAGE_EVENT_PREFIX] } });
    expect(usage.nodes.map((u) => [u.position, u.eventId])).toEqual(logged.map((e) => [e.position, e.id]));
    expect(usage.nodes[2]).toMatchObject({ resourceId: ID.vm, resourceName: ID.nic2, size: 1, offeringId: 'netoff-shared' });
    expect(usage.nodes[3]).toMatchObject({ resourceName: 'web-1', resourceType: 'KVM', offeringId: 'so-small', templateId: 'tmpl-debian', occurredAt: LATER });
    expect(listUsageEvents(model.db, all, { type: 'usage.VM.START' }, {}).totalCount).toBe(1);
    expect(listUsageEvents(model.db, all, { endDate: AT }, {}).totalCount).toBe(2);
  });

  it('rebuilds to the same rows from the log', async () => {
    await deployAndRun();
    const rebuilt = await ReadModel.open({ store, projections, directory: ':memory:' });
    expect(await rebuilt.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    for (const table of ['instances', 'events', 'usage_events']) {
      const rows = (m: ReadModel) => m.db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all();
      expect(rows(rebuilt)).toEqual(rows(model));
    }
    await rebuilt.close();
  });
});
