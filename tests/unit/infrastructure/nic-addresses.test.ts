import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandRejectedError, type CommandEnvelope } from '../../../adapters/eventstore/command-handler.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import type { ReadStreamOptions, RecordedEvent } from '../../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import {
  networkAddressDecider,
  networkAddressStream,
  networkDecider,
  networkStream,
  nicDecider,
  nicStream,
  type NetworkAddressEvent,
  type NicEvent,
} from '../../../domain/network/index.js';
import { infrastructureProjections } from '../../../projections/infrastructure/index.js';
import { ReadModel } from '../../../projections/read-model.js';
import { allocateNicAddress, readModelHints as hints, releaseNicAddress, type NicAllocation } from '../../../sagas/nic-addresses.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const claim = (address: string, nicId: string, instanceId = 'vm1') => ({ type: 'ClaimNetworkAddress' as const, networkId: 'n1', address, nicId, instanceId, networkName: 'demo' });
const claimed = (address: string, nicId: string, instanceId = 'vm1'): NetworkAddressEvent => ({ type: 'NetworkAddressClaimed', data: { networkId: 'n1', address, nicId, instanceId } });
const nic = (nicId: string, instanceId: string, mac: string, ip: string | null) => ({ nicId, instanceId, mac, ip });

describe('a network address, one stream per IP or MAC', () => {
  it('names its stream after the network and the address', () => {
    expect(networkAddressStream('n1', '10.1.0.2')).toBe('networkaddress-n1-10.1.0.2');
    expect(networkAddressStream('n1', '02:00:00:00:00:01')).toBe('networkaddress-n1-02:00:00:00:00:01');
    expect(nicStream('n1', 'nic1')).toBe('networknic-n1-nic1');
  });

  it('is claimed once; the holder repeating it appends nothing, another NIC is refused as the network refused', () => {
    given(networkAddressDecider).when(claim('10.1.0.2', 'nic1')).then([claimed('10.1.0.2', 'nic1')]);
    given(networkAddressDecider, [claimed('10.1.0.2', 'nic1')]).when(claim('10.1.0.2', 'nic1')).then([]);
    given(networkAddressDecider, [claimed('10.1.0.2', 'nic1')])
      .when(claim('10.1.0.2', 'nic2', 'vm2'))
      .then('BAD_USER_INPUT', { field: 'ipAddress', message: 'IP address 10.1.0.2 is not available in network demo' });
    given(networkAddressDecider, [claimed('02:00:00:00:00:01', 'nic1')])
      .when(claim('02:00:00:00:00:01', 'nic2', 'vm2'))
      .then('CONFLICT', { field: 'macAddress', message: 'NIC with MAC address 02:00:00:00:00:01 exists on network demo' });
  });

  it('is free again once its holder releases it; a release by another NIC appends nothing', () => {
    const release = (nicId: string) => ({ type: 'ReleaseNetworkAddress' as const, networkId: 'n1', address: '10.1.0.2', nicId });
    given(networkAddressDecider, [claimed('10.1.0.2', 'nic1')])
      .when(release('nic1'))
      .then([{ type: 'NetworkAddressReleased', data: { networkId: 'n1', address: '10.1.0.2', nicId: 'nic1', instanceId: 'vm1' } }]);
    given(networkAddressDecider, [claimed('10.1.0.2', 'nic1')]).when(release('nic2')).then([]);
    given(networkAddressDecider).when(release('nic1')).then([]);
  });

  it('refuses bad input', () => {
    given(networkAddressDecider).when(claim('10.1.0.2', '')).then('BAD_USER_INPUT', { field: 'nicId' });
    given(networkAddressDecider).when(claim('10.1.0.2', 'nic1', '')).then('BAD_USER_INPUT', { field: 'instanceId' });
  });
});

describe('a NIC\'s record', () => {
  const recorded = (instanceId: string): NicEvent => ({ type: 'NicAddressAllocated', data: { networkId: 'n1', ...nic('nic1', instanceId, '02:00:00:00:00:01', '10.1.0.2') } });
  const record = (instanceId: string) => ({ type: 'RecordNicAddress' as const, networkId: 'n1', nic: nic('nic1', instanceId, '02:00:00:00:00:01', '10.1.0.2') });
  const release = { type: 'ReleaseNicAddress' as const, networkId: 'n1', nicId: 'nic1' };

  it('records the addresses once for its instance, and refuses the NIC id for another', () => {
    given(nicDecider).when(record('vm1')).then([recorded('vm1')]);
    given(nicDecider, [recorded('vm1')]).when(record('vm1')).then([]);
    given(nicDecider, [recorded('vm1')]).when(record('vm2')).then('CONFLICT', { field: 'nicId' });
  });

  it('is released once, and remembers what it held', () => {
    const released: NicEvent = { type: 'NicAddressReleased', data: recorded('vm1').data };
    given(nicDecider, [recorded('vm1')]).when(release).then([released]);
    const state = given(nicDecider, [recorded('vm1'), released]).when(release).then([]);
    expect(state).toEqual({ kind: 'released', nic: nic('nic1', 'vm1', '02:00:00:00:00:01', '10.1.0.2') });
    given(nicDecider).when(release).then([]);
  });
});

describe('allocating NIC addresses by key', () => {
  const dirs: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const envelope: CommandEnvelope = { actor: { kind: 'system', component: 'test' }, correlationId: 'c', occurredAt: at };

  async function withNetwork(cidr: string | null, legacy: Array<ReturnType<typeof nic>> = []) {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-nics-'));
    dirs.push(dir);
    // The store counts the events each read hands back: what deciding costs.
    const store = Object.assign(SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 5 }), { eventsRead: 0 });
    const readStream = store.readStream.bind(store);
    store.readStream = async (stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> => {
      const events = await readStream(stream, options);
      store.eventsRead += events.length;
      return events;
    };
    const model = await ReadModel.open({ store, projections: infrastructureProjections, directory: ':memory:' });
    closers.push(() => store.close(), () => model.close());
    const commander = new Commander(store);
    await commander.execute(
      networkStream('n1'),
      networkDecider,
      { type: 'CreateNetwork', networkId: 'n1', zoneId: 'z1', name: 'demo', networkType: cidr === null ? 'L2' : 'Shared', vlan: 200, cidr, networkOfferingId: 'no', at },
      envelope,
    );
    // What a log written before address streams holds: the allocations on the network stream.
    if (legacy.length > 0) {
      const events = legacy.map((n, i) => ({ id: `00000000-0000-4000-8000-00000000000${i}`, type: 'NicAddressAllocated', data: { networkId: 'n1', ...n }, metadata: { occurredAt: at } }));
      await store.append(networkStream('n1'), events, 0);
    }
    const synced = async () => expect(await model.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    const allocate = (nicId: string, instanceId: string, extra: Partial<NicAllocation> = {}, by = commander) =>
      allocateNicAddress(by, hints(store, model), { networkId: 'n1', nicId, instanceId, macSeed: 0x0a0b0c0d, ...extra }, envelope);
    const release = (nicId: string, by = commander) => releaseNicAddress(by, { networkId: 'n1', nicId }, envelope);
    return { store, model, commander, synced, allocate, release };
  }

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof CommandRejectedError ? [error.rejection.code, error.rejection.field] : error),
    );

  it('hands out the lowest free IP, skipping network and gateway, and a seeded MAC, on their own streams only', async () => {
    const { store, allocate } = await withNetwork('10.1.0.0/29');
    expect(await allocate('nic1', 'vm1')).toEqual(nic('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2'));
    // The same seed gives the same first MAC, taken: the next is probed.
    expect(await allocate('nic2', 'vm2')).toEqual(nic('nic2', 'vm2', '02:00:0a:0b:0c:0e', '10.1.0.3'));
    expect((await store.readStream(networkStream('n1'))).map((e) => e.type)).toEqual(['NetworkCreated']);
    expect((await store.readStream(networkAddressStream('n1', '10.1.0.2'))).map((e) => e.data)).toEqual([{ networkId: 'n1', address: '10.1.0.2', nicId: 'nic1', instanceId: 'vm1' }]);
    expect((await store.readStream(nicStream('n1', 'nic2'))).map((e) => e.type)).toEqual(['NicAddressAllocated']);
  });

  it('allocates requested addresses, gives L2 NICs a MAC only, and repeats an allocation idempotently', async () => {
    const shared = await withNetwork('10.1.0.0/29');
    expect(await shared.allocate('nic1', 'vm1', { requestedIp: '10.1.0.6', requestedMac: '1E:00:00:00:00:01' })).toEqual(nic('nic1', 'vm1', '1e:00:00:00:00:01', '10.1.0.6'));
    expect(await shared.allocate('nic1', 'vm1', { requestedIp: '10.1.0.6', requestedMac: '1E:00:00:00:00:01' })).toEqual(nic('nic1', 'vm1', '1e:00:00:00:00:01', '10.1.0.6'));
    const l2 = await withNetwork(null);
    expect(await l2.allocate('nic1', 'vm1')).toEqual(nic('nic1', 'vm1', '02:00:0a:0b:0c:0d', null));
  });

  it('refuses taken requested addresses and a NIC id of another instance, and gives back what it had claimed', async () => {
    const { store, allocate } = await withNetwork('10.1.0.0/29');
    await allocate('nic1', 'vm1');
    expect(await refusal(allocate('nic2', 'vm2', { requestedIp: '10.1.0.2' }))).toEqual(['BAD_USER_INPUT', 'ipAddress']);
    expect(await refusal(allocate('nic2', 'vm2', { requestedIp: '10.1.0.5', requestedMac: '02:00:0A:0B:0C:0D' }))).toEqual(['CONFLICT', 'macAddress']);
    expect((await store.readStream(networkAddressStream('n1', '10.1.0.5'))).map((e) => e.type)).toEqual(['NetworkAddressClaimed', 'NetworkAddressReleased']);
    expect(await refusal(allocate('nic1', 'vm2'))).toEqual(['CONFLICT', 'nicId']);
    expect(await allocate('nic3', 'vm3', { requestedIp: '10.1.0.5' })).toMatchObject({ ip: '10.1.0.5' });
  });

  it('reports a full network as insufficient capacity, and hands a released address out again', async () => {
    // A /29 has 8 addresses: network, gateway and broadcast leave 5 for NICs.
    const { allocate, release, synced } = await withNetwork('10.1.0.0/29');
    for (let i = 2; i <= 6; i++) expect(await allocate(`nic${i}`, `vm${i}`, { macSeed: i * 100 })).toMatchObject({ ip: `10.1.0.${i}` });
    expect(await refusal(allocate('nic7', 'vm7'))).toEqual(['INSUFFICIENT_CAPACITY', undefined]);
    await release('nic3');
    await synced();
    expect(await allocate('nic7', 'vm7')).toMatchObject({ ip: '10.1.0.3' });
    await release('nic3');
    expect(await refusal(allocate('nic8', 'vm8'))).toEqual(['INSUFFICIENT_CAPACITY', undefined]);
  });

  it('keeps addresses an older log allocated on the network stream held until they are released there', async () => {
    const { store, allocate, release, synced } = await withNetwork('10.1.0.0/29', [nic('old', 'vm0', '02:00:0a:0b:0c:0d', '10.1.0.2')]);
    expect(await refusal(allocate('nic1', 'vm1', { requestedIp: '10.1.0.2' }))).toEqual(['BAD_USER_INPUT', 'ipAddress']);
    expect(await allocate('nic1', 'vm1')).toEqual(nic('nic1', 'vm1', '02:00:0a:0b:0c:0e', '10.1.0.3'));
    expect(await allocate('old', 'vm0')).toEqual(nic('old', 'vm0', '02:00:0a:0b:0c:0d', '10.1.0.2'));
    await release('old');
    expect((await store.readStream(networkStream('n1'))).map((e) => e.type)).toEqual(['NetworkCreated', 'NicAddressAllocated', 'NicAddressReleased']);
    await synced();
    expect(await allocate('nic2', 'vm2')).toMatchObject({ ip: '10.1.0.2' });
  });

  it('reads a handful of events for an allocation, however many the network handed out', async () => {
    const { store, allocate, synced } = await withNetwork('10.1.0.0/22');
    for (let i = 0; i < 120; i++) await allocate(`nic${i}`, `vm${i}`, { macSeed: i * 1000 });
    await synced();
    // A cold start: a new commander has folded nothing.
    const fresh = new Commander(store);
    store.eventsRead = 0;
    expect(await allocate('last', 'vm-last', { macSeed: 999_999 }, fresh)).toMatchObject({ ip: '10.1.0.122' });
    expect(store.eventsRead).toBeLessThanOrEqual(5);
  });

  it('lets concurrent deployments of one process try different addresses, not all the lowest', async () => {
    const { store, commander, allocate } = await withNetwork('10.1.0.0/24');
    let tried = 0;
    const execute = commander.execute.bind(commander);
    commander.execute = ((stream: string, ...rest: Parameters<typeof execute> extends [string, ...infer R] ? R : never) => {
      if (stream.startsWith(networkAddressStream('n1', '10.'))) tried++;
      return execute(stream, ...rest);
    }) as typeof commander.execute;
    const nics = await Promise.all(Array.from({ length: 24 }, (_, i) => allocate(`nic${i}`, `vm${i}`, { macSeed: i * 1000 })));
    expect(new Set(nics.map((n) => n.ip)).size).toBe(24);
    expect(nics.map((n) => n.ip).sort()).toEqual(Array.from({ length: 24 }, (_, i) => `10.1.0.${i + 2}`).sort());
    expect(tried).toBe(24);
    expect((await store.readStream(networkStream('n1'))).length).toBe(1);
  });

  it('lets exactly one of two processes racing for the last address win', async () => {
    const { store, allocate, synced } = await withNetwork('10.1.0.0/29');
    for (let i = 2; i <= 5; i++) await allocate(`nic${i}`, `vm${i}`, { macSeed: i * 100 });
    await synced();
    // Two commanders are two processes: neither sees the other's claims but through the store.
    const [a, b] = [new Commander(store), new Commander(store)];
    const outcomes = await Promise.allSettled([allocate('x', 'vm-x', { macSeed: 1 }, a), allocate('y', 'vm-y', { macSeed: 2 }, b)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(won[0]!.value).toMatchObject({ ip: '10.1.0.6' });
    const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
    expect(lost.reason).toBeInstanceOf(CommandRejectedError);
    expect((lost.reason as CommandRejectedError).rejection.code).toBe('INSUFFICIENT_CAPACITY');
    expect((await store.readStream(networkAddressStream('n1', '10.1.0.6'))).map((e) => e.type)).toEqual(['NetworkAddressClaimed']);
  });
});
