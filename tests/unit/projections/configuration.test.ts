import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../../../adapters/eventstore/command-handler.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { fold } from '../../../domain/shared/decider.js';
import { allocationSettings } from '../../../domain/allocation/index.js';
import {
  CONFIG_KEYS,
  configStream,
  configurationDecider,
  configurationEntries,
  effectiveSetting,
  type ConfigCommand,
  type ConfigEvent,
} from '../../../domain/config/index.js';
import { configurationProjection, listConfigurations, settingsSnapshot } from '../../../projections/configuration/index.js';
import { ReadModel } from '../../../projections/read-model.js';

describe('configuration read model', () => {
  let dir: string;
  let store: SqliteEventStore;
  let model: ReadModel;
  const models: ReadModel[] = [];

  const openModel = async () => {
    const opened = await ReadModel.open({ store, projections: [configurationProjection], directory: ':memory:' });
    models.push(opened);
    return opened;
  };
  const exec = (command: ConfigCommand) =>
    handleCommand(store, {
      stream: configStream(command.zoneId),
      decider: configurationDecider,
      command,
      envelope: { actor: { kind: 'system', component: 'test' }, correlationId: randomUUID(), occurredAt: '2025-01-01T00:00:00.000Z' },
      newEventId: randomUUID,
    });
  const update = (name: string, value: string, zoneId?: string) => exec({ type: 'UpdateConfiguration', name, value, zoneId: zoneId ?? null });
  const reset = (name: string, zoneId?: string) => exec({ type: 'ResetConfiguration', name, zoneId: zoneId ?? null });
  const synced = async (readModel: ReadModel = model) => {
    expect(await readModel.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    return readModel.db;
  };
  const folded = async (zoneId?: string) =>
    fold(configurationDecider, (await store.readStream(configStream(zoneId))).map((e) => ({ type: e.type, data: e.data }) as ConfigEvent));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-config-rm-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    model = await openModel();
  });
  afterEach(async () => {
    for (const m of models.splice(0)) await m.close().catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const seed = async () => {
    await update('vm.allocation.algorithm', 'FirstFit');
    await update('enable.dynamic.scale.vm', 'true');
    await update('enable.dynamic.scale.vm', 'false', 'z1');
    await update('expunge.delay', '60');
    await update('expunge.delay', '120');
    await reset('expunge.delay');
    await update('enable.dynamic.scale.vm', 'true', 'z2');
    await reset('enable.dynamic.scale.vm', 'z2');
    await update('user.vm.readonly.details', 'a, b,a');
  };

  it('lists every registered key with its effective value and where it came from', async () => {
    await seed();
    const db = await synced();

    const global = listConfigurations(db);
    expect(global.map((c) => c.name)).toEqual(Object.keys(CONFIG_KEYS));
    const byName = (entries: typeof global, name: string) => entries.find((c) => c.name === name);
    expect(byName(global, 'vm.allocation.algorithm')).toEqual({
      name: 'vm.allocation.algorithm',
      value: 'firstfit',
      defaultValue: 'random',
      type: 'select',
      scopes: ['global'],
      source: 'global',
      description: CONFIG_KEYS['vm.allocation.algorithm'].description,
      zoneId: null,
    });
    expect(byName(global, 'expunge.delay')).toMatchObject({ value: '86400', source: 'default', zoneId: null });
    expect(byName(global, 'enable.dynamic.scale.vm')).toMatchObject({ value: 'true', source: 'global', zoneId: null });
    expect(byName(global, 'user.vm.readonly.details')).toMatchObject({ value: 'a,b', source: 'global' });

    const zone1 = listConfigurations(db, { zoneId: 'z1' });
    expect(zone1).toHaveLength(global.length);
    expect(byName(zone1, 'enable.dynamic.scale.vm')).toMatchObject({ value: 'false', source: 'zone', zoneId: 'z1' });
    expect(byName(zone1, 'vm.allocation.algorithm')).toMatchObject({ value: 'firstfit', source: 'global', zoneId: null });
    // z2's override was reset: the global value shows through.
    expect(byName(listConfigurations(db, { zoneId: 'z2' }), 'enable.dynamic.scale.vm')).toMatchObject({ value: 'true', source: 'global', zoneId: 'z2' });

    // A part of the name, case-insensitive, as CloudStack's listConfigurations matches it.
    expect(listConfigurations(db, { name: 'EXPUNGE' }).map((c) => c.name)).toEqual(['allow.user.expunge.recover.vm', 'expunge.delay', 'expunge.interval']);
    expect(listConfigurations(db, { name: 'enable.dynamic.scale.vm', zoneId: 'z1' }).map((c) => [c.name, c.value])).toEqual([
      ['enable.dynamic.scale.vm', 'false'],
    ]);
    expect(listConfigurations(db, { name: 'no.such.key' })).toEqual([]);
  });

  it('gives the domain the same settings the folded config streams give', async () => {
    await seed();
    const db = await synced();
    const [global, zone1, zone2] = [await folded(), await folded('z1'), await folded('z2')];

    expect(settingsSnapshot(db)).toEqual({ global, zone: undefined });
    expect(settingsSnapshot(db, 'z1')).toEqual({ global, zone: zone1 });
    expect(settingsSnapshot(db, 'z2')).toEqual({ global, zone: zone2 });
    expect(settingsSnapshot(db, 'z-unset').zone).toEqual({ values: {} });

    const s1 = settingsSnapshot(db, 'z1');
    expect(effectiveSetting('enable.dynamic.scale.vm', s1.global, s1.zone)).toBe(false);
    expect(effectiveSetting('enable.dynamic.scale.vm', s1.global)).toBe(true);
    expect(allocationSettings(s1.global, s1.zone)).toEqual({ algorithm: 'firstfit', capacityType: 'CPU', cpuToMemoryWeight: 0.5 });
    expect(listConfigurations(db, { zoneId: 'z1' }).map(({ zoneId: _zoneId, ...entry }) => entry)).toEqual(configurationEntries(global, zone1));
  });

  it('rebuilds to identical query results from the same log', async () => {
    await seed();
    const everything = (db: Database) => ({
      global: listConfigurations(db),
      zone: listConfigurations(db, { zoneId: 'z1' }),
      snapshot: settingsSnapshot(db, 'z1'),
    });
    const original = everything(await synced());
    const rebuilt = everything(await synced(await openModel()));
    expect(rebuilt).toEqual(original);
    expect(original.snapshot.zone?.values).toEqual({ 'enable.dynamic.scale.vm': 'false' });
  });
});
