import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigValue, CONFIG_KEYS } from '../../../domain/config/index.js';
import { instanceStream, usageEventType } from '../../../domain/instance/index.js';
import { InvalidPageRequestError } from '../../../projections/pagination.js';
import { InvalidTimeWindowError } from '../../../projections/time-range.js';
import { listUsageRecords, splitAtMidnights, usageRecordsProjection } from '../../../projections/usage-records/index.js';
import { VM, openUsageLog, payload, spans, type UsageLog } from './usage-log.js';

const H = 3_600_000;

describe('usage records (CloudStack usage-server semantics)', () => {
  let log: UsageLog;
  beforeEach(async () => {
    log = await openUsageLog();
  });
  afterEach(async () => {
    await log.close();
  });

  it('opens ALLOCATED_VM at VM.CREATE and RUNNING_VM at VM.START, and closes them at VM.DESTROY and VM.STOP', async () => {
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    await log.usage('VM.START', '2025-03-01T10:00:05.250Z');
    await log.usage('VM.STOP', '2025-03-01T12:30:00.001Z');
    await log.usage('VM.DESTROY', '2025-03-01T13:00:00.000Z');
    expect(spans(log.records({}))).toEqual([
      ['ALLOCATED_VM', '2025-03-01T10:00:00.000Z', '2025-03-01T13:00:00.000Z', 3 * H],
      ['RUNNING_VM', '2025-03-01T10:00:05.250Z', '2025-03-01T12:30:00.001Z', 2.5 * H - 5_249],
    ]);
    const [allocated, running] = log.records({});
    expect(allocated).toMatchObject({ usageType: 2, resourceId: VM, resourceName: 'web-1', offeringId: 'so-small', templateId: 'tmpl-1', resourceType: 'KVM' });
    expect(running).toMatchObject({ usageType: 1, accountId: 'acct-1', zoneId: 'zone-1' });
  });

  it('ends the open RUNNING_VM row when VM.START comes twice, and re-points ALLOCATED_VM when the offering changed', async () => {
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    await log.usage('VM.START', '2025-03-01T11:00:00.000Z');
    await log.usage('VM.START', '2025-03-01T12:00:00.000Z', { offeringId: 'so-medium' });
    await log.usage('VM.STOP', '2025-03-01T13:00:00.000Z');
    const records = log.records({}, { now: '2025-03-01T14:00:00.000Z' });
    expect(records.map((r) => [r.type, r.offeringId, r.startDate, r.endDate])).toEqual([
      ['ALLOCATED_VM', 'so-small', '2025-03-01T10:00:00.000Z', '2025-03-01T12:00:00.000Z'],
      ['RUNNING_VM', 'so-small', '2025-03-01T11:00:00.000Z', '2025-03-01T12:00:00.000Z'],
      ['ALLOCATED_VM', 'so-medium', '2025-03-01T12:00:00.000Z', null],
      ['RUNNING_VM', 'so-medium', '2025-03-01T12:00:00.000Z', '2025-03-01T13:00:00.000Z'],
    ]);
  });

  it('re-opens ALLOCATED_VM at VM.UPGRADE, and RUNNING_VM at VM.DYNAMIC.SCALE with the new compute', async () => {
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z', { offeringId: 'so-custom', details: { cpuNumber: 1, cpuSpeed: 1000, memory: 512 } });
    await log.usage('VM.UPGRADE', '2025-03-01T11:00:00.000Z', { offeringId: 'so-custom', details: { cpuNumber: 2, cpuSpeed: 1000, memory: 1024 } });
    await log.usage('VM.START', '2025-03-01T12:00:00.000Z', { offeringId: 'so-custom', details: { cpuNumber: 2, cpuSpeed: 1000, memory: 1024 } });
    await log.usage('VM.DYNAMIC.SCALE', '2025-03-01T13:00:00.000Z', { offeringId: 'so-custom', details: { cpuNumber: 4, cpuSpeed: 1000, memory: 4096 } });
    const records = log.records({}, { now: '2025-03-01T14:00:00.000Z' });
    expect(records.map((r) => [r.type, (r.details as { cpuNumber: number }).cpuNumber, r.startDate, r.endDate])).toEqual([
      ['ALLOCATED_VM', 1, '2025-03-01T10:00:00.000Z', '2025-03-01T11:00:00.000Z'],
      ['ALLOCATED_VM', 2, '2025-03-01T11:00:00.000Z', '2025-03-01T13:00:00.000Z'],
      ['RUNNING_VM', 2, '2025-03-01T12:00:00.000Z', '2025-03-01T13:00:00.000Z'],
      ['ALLOCATED_VM', 4, '2025-03-01T13:00:00.000Z', null],
      ['RUNNING_VM', 4, '2025-03-01T13:00:00.000Z', null],
    ]);
  });

  it('bills VOLUME by size from VOLUME.CREATE to VOLUME.DELETE, and NETWORK_OFFERING per NIC from ASSIGN to REMOVE', async () => {
    await log.usage('VOLUME.CREATE', '2025-03-01T10:00:00.000Z', { resourceId: 'vol-1', resourceName: 'ROOT-1', size: 2 ** 31, offeringId: null }, instanceStream(VM));
    await log.usage('VOLUME.CREATE', '2025-03-01T10:00:00.000Z', { resourceId: 'vol-2', resourceName: 'DATA-1', size: 2 ** 30, offeringId: 'disk-small', templateId: null }, instanceStream(VM));
    await log.usage('NETWORK.OFFERING.ASSIGN', '2025-03-01T10:30:00.000Z', { resourceName: 'nic-1', offeringId: 'netoff-1', size: 1 });
    await log.usage('NETWORK.OFFERING.ASSIGN', '2025-03-01T10:30:00.000Z', { resourceName: 'nic-2', offeringId: 'netoff-2', size: 0 });
    await log.usage('NETWORK.OFFERING.REMOVE', '2025-03-01T11:30:00.000Z', { resourceName: 'nic-2', offeringId: 'netoff-2', size: 0 });
    await log.usage('VOLUME.DELETE', '2025-03-01T12:00:00.000Z', { resourceId: 'vol-2', resourceName: 'DATA-1' }, instanceStream(VM));
    const records = log.records({}, { now: '2025-03-01T13:00:00.000Z' });
    expect(records.map((r) => [r.type, r.resourceId, r.resourceName, r.size, r.durationMs, r.endDate === null])).toEqual([
      ['VOLUME', 'vol-1', 'ROOT-1', 2 ** 31, 3 * H, true],
      ['VOLUME', 'vol-2', 'DATA-1', 2 ** 30, 2 * H, false],
      ['NETWORK_OFFERING', VM, 'nic-1', 1, 2.5 * H, true],
      ['NETWORK_OFFERING', VM, 'nic-2', 0, 1 * H, false],
    ]);
    expect(log.records({ type: 'VOLUME' }).map((r) => r.resourceId)).toEqual(['vol-1', 'vol-2']);
  });

  it('bills VM_SNAPSHOT per snapshot and volume once snapshot usage events arrive', async () => {
    const snapshot = { resourceName: 'snap-a', templateId: 'vol-1', size: 5_000, offeringId: null, resourceType: null };
    await log.usage('VMSNAPSHOT.CREATE', '2025-03-01T10:00:00.000Z', { ...snapshot, details: { vmSnapshotId: 's-1' } });
    await log.usage('VMSNAPSHOT.CREATE', '2025-03-01T10:00:00.000Z', { ...snapshot, templateId: 'vol-2', size: 7_000, details: { vmSnapshotId: 's-1' } });
    await log.usage('VMSNAPSHOT.DELETE', '2025-03-01T11:00:00.000Z', { ...snapshot, details: { vmSnapshotId: 's-1' } });
    const records = log.records({ type: 'VM_SNAPSHOT' }, { now: '2025-03-01T12:00:00.000Z' });
    expect(records.map((r) => [r.usageType, r.templateId, r.size, r.durationMs, r.endDate])).toEqual([
      [25, 'vol-1', 5_000, H, '2025-03-01T11:00:00.000Z'],
      [25, 'vol-2', 7_000, 2 * H, null],
    ]);
  });

  it('never adds or moves a record when an event is applied again (replay) or read twice', async () => {
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    await log.usage('VM.START', '2025-03-01T11:00:00.000Z');
    await log.usage('VM.STOP', '2025-03-01T12:00:00.000Z');
    await log.usage('VM.START', '2025-03-01T13:00:00.000Z');
    const before = log.records({}, { now: '2025-03-01T14:00:00.000Z' });
    // Every stored event handed to the projection once more, as a replay from an older checkpoint would.
    const db = log.model.db;
    const writer = {
      run: (sql: string, ...params: unknown[]) => void db.prepare(sql).run(...params),
      get: <Row>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as Row | undefined,
      all: <Row>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as Row[],
      memo: new Map<string, unknown>(),
    };
    for (const event of await log.store.readAll()) usageRecordsProjection.handle(event, writer);
    expect(log.records({}, { now: '2025-03-01T14:00:00.000Z' })).toEqual(before);
    expect(before.map((r) => r.openedBy)).toEqual([...new Set(before.map((r) => r.openedBy))]);
  });

  it('keys every record by the event that opened it and names the event that closed it', async () => {
    const create = await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    const destroy = await log.usage('VM.DESTROY', '2025-03-01T11:00:00.000Z');
    expect(log.records({})).toMatchObject([{ openedBy: create, closedBy: destroy, id: `${create}:2@2025-03-01T10:00:00.000Z` }]);
  });

  it('cuts records at midnights of the configured zone, keeping durations exact to the millisecond', async () => {
    await log.usage('VM.START', '2025-03-29T22:59:59.999Z');
    await log.usage('VM.STOP', '2025-03-31T01:00:00.001Z');
    // Europe/Paris moves to summer time on 30 March: that day has 23 hours.
    const paris = log.records({ type: 'RUNNING_VM' }, { timeZone: 'Europe/Paris' });
    expect(spans(paris)).toEqual([
      ['RUNNING_VM', '2025-03-29T22:59:59.999Z', '2025-03-29T23:00:00.000Z', 1],
      ['RUNNING_VM', '2025-03-29T23:00:00.000Z', '2025-03-30T22:00:00.000Z', 23 * H],
      ['RUNNING_VM', '2025-03-30T22:00:00.000Z', '2025-03-31T01:00:00.001Z', 3 * H + 1],
    ]);
    const utc = log.records({ type: 'RUNNING_VM' }, { timeZone: 'UTC' });
    expect(spans(utc).map((s) => s[3])).toEqual([H + 1, 24 * H, H + 1]);
    const kolkata = log.records({ type: 'RUNNING_VM' }, { timeZone: 'Asia/Kolkata' });
    expect(kolkata.map((r) => r.startDate)).toEqual(['2025-03-29T22:59:59.999Z', '2025-03-30T18:30:00.000Z']);
    for (const records of [paris, utc, kolkata]) expect(records.reduce((sum, r) => sum + r.durationMs, 0)).toBe(26 * H + 2);
  });

  it('clips records to the window; an open interval ends at the window or now, with a null end', async () => {
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    await log.usage('VM.START', '2025-03-01T11:00:00.000Z');
    await log.usage('VM.STOP', '2025-03-01T15:00:00.000Z');
    const window = { startDate: '2025-03-01T12:00:00.000Z', endDate: '2025-03-01T14:00:00.000Z' };
    expect(spans(log.records(window, { now: '2025-03-02T00:00:00.000Z' }))).toEqual([
      ['ALLOCATED_VM', '2025-03-01T12:00:00.000Z', null, 2 * H],
      ['RUNNING_VM', '2025-03-01T12:00:00.000Z', '2025-03-01T14:00:00.000Z', 2 * H],
    ]);
    expect(spans(log.records({ type: 'ALLOCATED_VM' }, { now: '2025-03-01T10:30:00.000Z' }))).toEqual([['ALLOCATED_VM', '2025-03-01T10:00:00.000Z', null, H / 2]]);
    expect(log.records({ startDate: '2025-03-01T15:00:00.000Z', endDate: '2025-03-01T16:00:00.000Z', type: 'RUNNING_VM' })).toEqual([]);
  });

  it('shows a user its own account only, and filters by account and type', async () => {
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z', { accountId: 'acct-2', domainId: 'dom-2', resourceId: 'vm-2' });
    expect(log.records({}, {}, { kind: 'account', accountId: 'acct-2' }).map((r) => r.resourceId)).toEqual(['vm-2']);
    expect(log.records({ accountId: 'acct-1' }, {}, { kind: 'account', accountId: 'acct-2' })).toEqual([]);
    expect(log.records({}, {}, { kind: 'domains', domainIds: ['dom-1'] }).map((r) => r.resourceId)).toEqual([VM]);
    expect(log.records({ accountId: 'acct-1' }).map((r) => r.resourceId)).toEqual([VM]);
  });

  it('pages through day pieces with cursors and counts them all', async () => {
    await log.usage('VM.START', '2025-03-01T12:00:00.000Z');
    const page = (after: string | null) =>
      listUsageRecords(log.model.db, { kind: 'all' }, { startDate: '2025-03-01T00:00:00Z', endDate: '2025-03-06T00:00:00Z' }, { first: 2, after }, { timeZone: 'UTC', nowMs: Date.parse('2025-03-10T00:00:00Z') });
    const first = page(null);
    expect(first.totalCount).toBe(5);
    expect(first.nodes.map((r) => r.startDate)).toEqual(['2025-03-01T12:00:00.000Z', '2025-03-02T00:00:00.000Z']);
    const second = page(first.pageInfo.endCursor);
    const third = page(second.pageInfo.endCursor);
    expect([...second.nodes, ...third.nodes].map((r) => r.startDate.slice(0, 10))).toEqual(['2025-03-03', '2025-03-04', '2025-03-05']);
    expect(third.pageInfo.hasNextPage).toBe(false);
    expect(third.nodes.at(-1)?.endDate).toBeNull();
  });

  it('refuses an empty or reversed window and a cursor of another list', () => {
    const list = (startDate: string, endDate: string, after: string | null = null) =>
      listUsageRecords(log.model.db, { kind: 'all' }, { startDate, endDate }, { after }, { timeZone: 'UTC', nowMs: 0 });
    expect(() => list('2025-03-02T00:00:00Z', '2025-03-01T00:00:00Z')).toThrow(InvalidTimeWindowError);
    expect(() => list('nonsense', '2025-03-01T00:00:00Z')).toThrow(InvalidTimeWindowError);
    const foreign = Buffer.from(JSON.stringify([1, 2])).toString('base64url');
    expect(() => list('2025-03-01T00:00:00Z', '2025-03-02T00:00:00Z', foreign)).toThrow(InvalidPageRequestError);
  });

  it('ignores a usage event without the fields every usage event carries', async () => {
    const stream = instanceStream(randomUUID());
    await log.store.append(stream, [{ id: randomUUID(), type: usageEventType('VM.CREATE'), data: { resourceId: 'x' } }], 'no_stream');
    await log.usage('VM.CREATE', '2025-03-01T10:00:00.000Z');
    expect(log.records({}).map((r) => r.resourceId)).toEqual([VM]);
    expect(payload().accountId).toBe('acct-1');
  });
});

describe('day splitting', () => {
  it('cuts an interval at each midnight of the zone, including days of 23, 24.5 and 25 hours', () => {
    const cut = (from: string, to: string, zone: string) => splitAtMidnights(Date.parse(from), Date.parse(to), zone).map((p) => (p.endMs - p.startMs) / H);
    // New York leaves summer time on 2 November 2025.
    expect(cut('2025-11-01T08:00:00Z', '2025-11-04T06:00:00Z', 'America/New_York')).toEqual([20, 25, 24, 1]);
    // Lord Howe Island leaves summer time by half an hour.
    expect(cut('2025-04-05T13:00:00Z', '2025-04-07T13:00:00Z', 'Australia/Lord_Howe')).toEqual([24.5, 23.5]);
    expect(cut('2025-03-01T00:00:00Z', '2025-03-01T00:00:00Z', 'UTC')).toEqual([]);
  });
});

describe('the usage.timezone key', () => {
  it('defaults to UTC and accepts IANA zone names only', () => {
    expect(CONFIG_KEYS['usage.timezone'].default).toBe('UTC');
    const definition = CONFIG_KEYS['usage.timezone'];
    expect(parseConfigValue(definition, 'europe/paris')).toEqual({ ok: true, normalized: 'Europe/Paris' });
    expect(parseConfigValue(definition, 'Asia/Kolkata')).toEqual({ ok: true, normalized: 'Asia/Kolkata' });
    for (const bad of ['Mars/Olympus', '+01:00', '', 'UTC; DROP']) expect(parseConfigValue(definition, bad)).toMatchObject({ ok: false });
  });
});
