// The usage contract (docs/usage-events.md, docs/usage-schema/): real usage events produced by the
// instance domain, read as `usage tail` writes them, conform to their type's JSON Schema.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { EMITTED_USAGE_TYPES, USAGE_TYPES, type InstanceCommand } from '../../../domain/instance/index.js';
import { CSV_COLUMNS } from '../../../api/usage-tail/record.js';
import { streamOutput } from '../../../api/usage-tail/output.js';
import { tailUsage } from '../../../api/usage-tail/tail.js';
import { GiB, ID, cmd, custom, deploy, medium, nic1, nic2, owner, small } from '../instance/fixtures.js';
import { runCommands } from './domain-run.js';
import { validate } from './json-schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const docs = join(import.meta.dirname, '../../../docs');
const schemaOf = (type: string) => JSON.parse(readFileSync(join(docs, 'usage-schema', `${type}.json`), 'utf8')) as Record<string, Json>;

const at = (minute: number) => new Date(Date.UTC(2025, 2, 1, 10, minute)).toISOString();

/** A life that produces every usage type the domain emits, on a standard and on a customized offering. */
function lifecycle(instanceId: string, customized: boolean): InstanceCommand[] {
  const base = { instanceId };
  const offering = customized ? { serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 2048 } } : {};
  return [
    deploy({
      instanceId,
      startVm: false,
      nics: [nic1, nic2],
      dataVolumes: [{ id: `${instanceId}-data`, name: 'DATA-1', size: GiB, storagePoolId: ID.pool, diskOfferingId: ID.diskOffering }],
      rootVolume: { id: `${instanceId}-root`, name: 'ROOT-1', size: 2 * GiB, storagePoolId: ID.pool, diskOfferingId: null },
      ...offering,
    }),
    { ...cmd.start('job-1'), ...base, at: at(1) },
    { ...cmd.startOk('job-1', ID.host1, at(2)), ...base },
    { type: 'ScaleInstance', ...base, at: at(3), caller: owner, jobId: 'job-2', serviceOffering: customized ? custom : medium, enableDynamicScaleVm: true, ...(customized ? { customCompute: { cpuNumber: 4, memory: 4096 } } : {}) },
    { type: 'RecordScaleSucceeded', ...base, at: at(4), jobId: 'job-2' },
    { ...cmd.snapshot('s1', { jobId: 'job-snap', memory: true }), ...base, at: at(4) },
    { ...cmd.snapshotOk('s1', 'job-snap'), ...base, at: at(4) },
    { ...cmd.deleteSnapshot('s1', 'job-snap-delete'), ...base, at: at(4) },
    { ...cmd.snapshotOk('s1', 'job-snap-delete'), ...base, at: at(4) },
    { ...cmd.stop('job-3'), ...base, at: at(5) },
    { ...cmd.stopOk('job-3', at(6)), ...base },
    { type: 'ChangeServiceOffering', ...base, at: at(7), caller: owner, serviceOffering: customized ? custom : small, ...(customized ? { customCompute: { cpuNumber: 1, memory: 1024 } } : {}) },
    { ...cmd.destroy({ at: at(8), volumeIds: [`${instanceId}-data`] }), ...base },
  ];
}

describe('the usage contract', () => {
  let dir: string;
  let store: SqliteEventStore;
  let lines: Array<Record<string, Json>>;
  let csv: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-contract-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    await runCommands(store, [...lifecycle('7e0c7b8a-0000-4000-8000-000000000001', false), ...lifecycle('7e0c7b8a-0000-4000-8000-000000000002', true)]);
    lines = (await tail('ndjson')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, Json>);
    csv = await tail('csv');
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function tail(format: 'ndjson' | 'csv'): Promise<string> {
    let text = '';
    const sink = { write: (chunk: string, done: (error?: Error | null) => void) => ((text += chunk), done(), true) } as unknown as NodeJS.WritableStream;
    await tailUsage({ store, format, openOutput: () => streamOutput(sink) });
    return text;
  }

  it('has a schema for every usage type, and the page documents each', () => {
    const files = readdirSync(join(docs, 'usage-schema')).map((name) => name.replace(/\.json$/, ''));
    expect(files.sort()).toEqual([...USAGE_TYPES].sort());
    const page = readFileSync(join(docs, 'usage-events.md'), 'utf8');
    for (const type of USAGE_TYPES) expect(page).toContain(`\`${type}\``);
    for (const column of CSV_COLUMNS) expect(page).toContain(`\`${column}\``);
  });

  it('sees every usage type the instance domain emits', () => {
    const emitted = new Set(lines.map((line) => line.type));
    expect([...emitted].sort()).toEqual([...EMITTED_USAGE_TYPES].sort());
  });

  it('validates every real usage event against its type\'s schema', () => {
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(validate(schemaOf(String(line.type)), line), JSON.stringify(line)).toEqual([]);
  });

  it('refuses records that break the contract, so the schemas can fail', () => {
    const start = lines.find((line) => line.type === 'VM.START')!;
    const broken: Array<Record<string, Json>> = [
      { ...start, size: 5 },
      { ...start, position: 0 },
      { ...start, eventId: 'not-a-uuid' },
      { ...start, type: 'VM.STOP' },
      { ...start, occurredAt: '1 March 2025' },
      Object.fromEntries(Object.entries(start).filter(([key]) => key !== 'accountId')),
    ];
    for (const record of broken) expect(validate(schemaOf('VM.START'), record)).not.toEqual([]);
    const assign = lines.find((line) => line.type === 'NETWORK.OFFERING.ASSIGN')!;
    expect(validate(schemaOf('NETWORK.OFFERING.ASSIGN'), { ...assign, size: 2 })).not.toEqual([]);
    expect(validate(schemaOf('NETWORK.OFFERING.REMOVE'), { ...assign, type: 'NETWORK.OFFERING.REMOVE', size: 1 })).not.toEqual([]);
    const custom = lines.find((line) => line.type === 'VM.CREATE' && line.details !== null)!;
    expect(validate(schemaOf('VM.CREATE'), { ...custom, details: { cpuNumber: 2 } })).not.toEqual([]);
  });

  it('accepts fields a later version adds (additions only)', () => {
    expect(validate(schemaOf('VM.START'), { ...lines.find((line) => line.type === 'VM.START')!, usageVersion: 2, costCenter: 'x' })).toEqual([]);
  });

  it('writes CSV with the documented columns, one row per record', () => {
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(lines.length + 1);
    const first = lines[0]!;
    expect(rows[1]!.split(',').slice(0, 4)).toEqual([String(first.position), String(first.eventId), String(first.stream), String(first.type)]);
    const custom = rows.find((row) => row.includes('cpuNumber'))!;
    expect(custom).toContain('"{""cpuNumber"":');
  });
});
