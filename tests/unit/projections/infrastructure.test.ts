import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../../../adapters/eventstore/command-handler.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { fold, isRejection, type Decider, type DomainEvent } from '../../../domain/shared/decider.js';
import { hostCandidate, planHost } from '../../../domain/allocation/index.js';
import { hostDecider, hostStream, type AddHostCommand, type HostEvent } from '../../../domain/host/index.js';
import { osTypeByDescription } from '../../../domain/os-type/index.js';
import { networkDecider, networkStream } from '../../../domain/network/index.js';
import { offeringDecider, offeringStream } from '../../../domain/offering/index.js';
import { storagePoolDecider, storagePoolStream } from '../../../domain/storage/index.js';
import { templateDecider, templateStream } from '../../../domain/template/index.js';
import { zoneDecider, zoneStream } from '../../../domain/zone/index.js';
import {
  getHost,
  hostCapabilities,
  getNetwork,
  getServiceOffering,
  getTemplate,
  hostCapacitySnapshot,
  infrastructureProjections,
  listClusters,
  listDiskOfferings,
  listHostReservations,
  listHosts,
  listInstanceAddresses,
  listInstanceReservations,
  listNetworkAddresses,
  listNetworks,
  listServiceOfferings,
  listStoragePools,
  listTemplates,
  listZones,
} from '../../../projections/infrastructure/index.js';
import { InvalidPageRequestError } from '../../../projections/pagination.js';
import { ReadModel } from '../../../projections/read-model.js';
import { Commander } from '../../../adapters/eventstore/commander.js';
import { allocateNicAddress, readModelHints as hints, releaseNicAddress } from '../../../sagas/nic-addresses.js';

const GIB = 1024 ** 3;
const T0 = Date.UTC(2025, 0, 1);
const time = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

describe('infrastructure read models', () => {
  let dir: string;
  let store: SqliteEventStore;
  let model: ReadModel;
  const models: ReadModel[] = [];
  let tick = 0;
  const now = () => time(++tick);

  const openModel = async () => {
    const opened = await ReadModel.open({ store, projections: infrastructureProjections, directory: ':memory:' });
    models.push(opened);
    return opened;
  };
  const envelope = () => ({ actor: { kind: 'system', component: 'test' } as const, correlationId: randomUUID(), occurredAt: time(tick) });
  const exec = async <C, S, E extends DomainEvent>(stream: string, decider: Decider<C, S, E>, command: NoInfer<C>) => {
    const envelope = { actor: { kind: 'system', component: 'test' } as const, correlationId: randomUUID(), occurredAt: time(tick) };
    return handleCommand(store, { stream, decider, command, envelope, newEventId: randomUUID });
  };
  const synced = async (readModel: ReadModel = model) => {
    expect(await readModel.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    return readModel.db;
  };

  beforeEach(async () => {
    tick = 0;
    dir = mkdtempSync(join(tmpdir(), 'vmledger-infra-rm-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    model = await openModel();
  });
  afterEach(async () => {
    for (const m of models.splice(0)) await m.close().catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const createZone = (zoneId: string, name: string, at = now()) => exec(zoneStream(zoneId), zoneDecider, { type: 'CreateZone', zoneId, name, at });
  const addCluster = (zoneId: string, clusterId: string, name: string) =>
    exec(zoneStream(zoneId), zoneDecider, { type: 'AddCluster', clusterId, name, hypervisor: 'KVM', at: now() });
  const addHost = (hostId: string, name: string, clusterId = 'c1', extra: Partial<AddHostCommand> = {}) =>
    exec(hostStream(hostId), hostDecider, {
      type: 'AddHost',
      hostId,
      zoneId: 'z1',
      clusterId,
      hypervisor: 'KVM',
      name,
      driver: 'simulator',
      cpuNumber: 16,
      cpuSpeed: 2000,
      memory: 65536,
      at: now(),
      ...extra,
    });
  const reserve = (hostId: string, instanceId: string, cpuNumber: number, cpuSpeed: number, memory: number) =>
    exec(hostStream(hostId), hostDecider, { type: 'ReserveCapacity', instanceId, cpuNumber, cpuSpeed, memory });
  const release = (hostId: string, instanceId: string) => exec(hostStream(hostId), hostDecider, { type: 'ReleaseCapacity', instanceId });

  it('lists zones and clusters in creation order, with allocation state', async () => {
    // Created earlier but written with more fractional digits: text order would put it last.
    await createZone('z2', 'second-zone', '2025-01-01T00:00:05Z');
    await createZone('z1', 'demo-zone', '2025-01-01T00:00:04.5Z');
    await addCluster('z1', 'c1', 'demo-cluster');
    await addCluster('z2', 'c2', 'other-cluster');
    await exec(zoneStream('z2'), zoneDecider, { type: 'DisableZone' });
    const db = await synced();

    expect(listZones(db)).toEqual({
      nodes: [
        { id: 'z1', name: 'demo-zone', networkType: 'Advanced', allocationState: 'Enabled', created: '2025-01-01T00:00:04.500Z' },
        { id: 'z2', name: 'second-zone', networkType: 'Advanced', allocationState: 'Disabled', created: '2025-01-01T00:00:05.000Z' },
      ],
      pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
      totalCount: 2,
    });
    expect(listClusters(db, { zoneId: 'z1' }).nodes).toEqual([{ id: 'c1', zoneId: 'z1', name: 'demo-cluster', hypervisor: 'KVM', created: time(1) }]);
    expect(listClusters(db).nodes.map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('keeps host capacity exactly through reserve, re-reserve and release', async () => {
    await addHost('h1', 'sim-host-1');
    await addHost('h2', 'sim-host-2');
    let db = await synced();
    expect(getHost(db, 'h1')).toMatchObject({ cpuTotal: 32000, cpuAllocated: 0, cpuFree: 32000, memoryTotal: 65536, memoryAllocated: 0, reservationCount: 0 });

    await reserve('h1', 'i1', 2, 1000, 1024);
    await reserve('h1', 'i2', 4, 1500, 4096);
    db = await synced();
    expect(getHost(db, 'h1')).toMatchObject({ cpuAllocated: 8000, cpuFree: 24000, memoryAllocated: 5120, memoryFree: 60416, reservationCount: 2 });

    // A resize of i1 replaces its reservation; only the difference is added.
    await reserve('h1', 'i1', 8, 2000, 16384);
    db = await synced();
    expect(getHost(db, 'h1')).toMatchObject({ cpuAllocated: 22000, cpuFree: 10000, memoryAllocated: 20480, memoryFree: 45056, reservationCount: 2 });
    expect(listHostReservations(db, 'h1')).toEqual([
      { hostId: 'h1', instanceId: 'i1', cpuNumber: 8, cpuSpeed: 2000, memory: 16384 },
      { hostId: 'h1', instanceId: 'i2', cpuNumber: 4, cpuSpeed: 1500, memory: 4096 },
    ]);

    await release('h1', 'i2');
    await reserve('h2', 'i1', 1, 500, 512); // a migration holds both ends for a while
    db = await synced();
    expect(getHost(db, 'h1')).toMatchObject({ cpuAllocated: 16000, cpuFree: 16000, memoryAllocated: 16384, memoryFree: 49152, reservationCount: 1 });
    expect(listInstanceReservations(db, 'i1').map((r) => r.hostId)).toEqual(['h1', 'h2']);
    expect(listInstanceReservations(db, 'i2')).toEqual([]);

    await release('h1', 'i1');
    db = await synced();
    expect(getHost(db, 'h1')).toMatchObject({ cpuAllocated: 0, cpuFree: 32000, memoryAllocated: 0, memoryFree: 65536, reservationCount: 0 });
    expect(getHost(db, 'h2')).toMatchObject({ cpuAllocated: 500, memoryAllocated: 512, reservationCount: 1 });
    expect(listHostReservations(db, 'h1')).toEqual([]);
  });

  it('keeps each host\'s totals equal to the folded host\'s for any run of reserves, resizes and releases', async () => {
    // The totals move by each change's difference; this holds them to the aggregate's own sums.
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ reserve: fc.constantFrom('i1', 'i2', 'i3'), cpuNumber: fc.integer({ min: 1, max: 4 }), cpuSpeed: fc.integer({ min: 100, max: 2000 }), memory: fc.integer({ min: 128, max: 4096 }) }),
            fc.record({ release: fc.constantFrom('i1', 'i2', 'i3') }),
          ),
          { maxLength: 12 },
        ),
        async (steps) => {
          const hostId = `prop-${++run}`;
          await addHost(hostId, hostId);
          for (const step of steps) {
            if ('reserve' in step) await reserve(hostId, step.reserve, step.cpuNumber, step.cpuSpeed, step.memory);
            else await release(hostId, step.release);
          }
          const folded = fold(hostDecider, (await store.readStream(hostStream(hostId))).map((e) => ({ type: e.type, data: e.data }) as HostEvent));
          if (folded.kind !== 'host') throw new Error('no host');
          expect(getHost(await synced(), hostId)).toMatchObject({ cpuAllocated: folded.usedCpu, memoryAllocated: folded.usedMemory, reservationCount: folded.reservations.size });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('shows every host field, the domain host state, and hides removed hosts', async () => {
    await addHost('h1', 'sim-host-1', 'c1', { hostTags: ['ssd', ' fast ', 'ssd'], simulator: { startDelayMs: 250, failOn: ['START', 'START'] } });
    await addHost('h2', 'kvm-1', 'c1', { driver: 'libvirt', url: 'ssh://10.0.0.5', username: 'root', credentialRef: 'secret/host/h2' });
    await addHost('h3', 'sim-host-3', 'c2');
    await exec(hostStream('h1'), hostDecider, { type: 'ReportHostStatus', status: 'Disconnected' });
    await exec(hostStream('h2'), hostDecider, { type: 'PrepareHostForMaintenance' });
    await exec(hostStream('h3'), hostDecider, { type: 'DisableHost' });
    await exec(hostStream('h3'), hostDecider, { type: 'RemoveHost' });
    await exec(hostStream('h1'), hostDecider, { type: 'UpdateHostTags', hostTags: ['gpu'] });
    await exec(hostStream('h1'), hostDecider, { type: 'ReportHostCapabilities', capabilities: ['snapshot.disk.stopped', 'snapshot.memory'] });
    const db = await synced();

    expect(getHost(db, 'h1')).toEqual({
      id: 'h1',
      name: 'sim-host-1',
      zoneId: 'z1',
      clusterId: 'c1',
      hypervisor: 'KVM',
      driver: 'simulator',
      state: 'Disconnected',
      status: 'Disconnected',
      resourceState: 'Enabled',
      cpuNumber: 16,
      cpuSpeed: 2000,
      memory: 65536,
      hostTags: ['gpu'],
      url: null,
      username: null,
      simulator: { startDelayMs: 250, stopDelayMs: 0, failOn: ['START'] },
      cpuTotal: 32000,
      cpuAllocated: 0,
      cpuFree: 32000,
      memoryTotal: 65536,
      memoryAllocated: 0,
      memoryFree: 65536,
      reservationCount: 0,
      capabilities: ['snapshot.memory', 'snapshot.disk.stopped'],
      removed: false,
      created: time(1),
    });
    // A host whose agent has not reported yet, an unknown one and a removed one can do nothing.
    expect([hostCapabilities(db, 'h1'), hostCapabilities(db, 'h2'), hostCapabilities(db, 'nope'), hostCapabilities(db, 'h3')]).toEqual([
      ['snapshot.memory', 'snapshot.disk.stopped'],
      [],
      [],
      [],
    ]);
    const h2 = getHost(db, 'h2');
    expect([h2?.state, h2?.status, h2?.url, h2?.username, h2?.simulator, h2?.driver]).toEqual([
      'PrepareForMaintenance',
      'Up',
      'ssh://10.0.0.5',
      'root',
      null,
      'libvirt',
    ]);
    expect(JSON.stringify(h2)).not.toContain('secret/host/h2');

    expect(listHosts(db).nodes.map((h) => h.id)).toEqual(['h1', 'h2']);
    expect(listHosts(db).totalCount).toBe(2);
    expect(listHosts(db, { clusterId: 'c2' }).nodes).toEqual([]);
    expect(listHosts(db, { id: 'h2' }).nodes.map((h) => h.name)).toEqual(['kvm-1']);
    expect(listHosts(db, { zoneId: 'elsewhere' }).totalCount).toBe(0);
    expect(getHost(db, 'h3')).toBeUndefined();
    expect(getHost(db, 'h3', { includeRemoved: true })).toMatchObject({ id: 'h3', removed: true, state: 'Disabled' });
  });

  it('builds exactly the planner input the folded host streams give', async () => {
    await addHost('h1', 'sim-host-1', 'c1', { hostTags: ['ssd'] });
    await addHost('h2', 'sim-host-2', 'c1');
    await addHost('h3', 'sim-host-3', 'c2');
    await addHost('h4', 'gone', 'c2');
    await reserve('h1', 'i1', 4, 2000, 8192);
    await reserve('h1', 'i1', 2, 2000, 4096);
    await reserve('h2', 'i2', 15, 2000, 1024);
    await exec(hostStream('h3'), hostDecider, { type: 'ReportHostStatus', status: 'Down' });
    await exec(hostStream('h4'), hostDecider, { type: 'DisableHost' });
    await exec(hostStream('h4'), hostDecider, { type: 'RemoveHost' });
    const db = await synced();

    const counts = { h2: 3 };
    const folded = async (hostId: string) => {
      const events = (await store.readStream(hostStream(hostId))).map((e) => ({ type: e.type, data: e.data }) as HostEvent);
      const state = fold(hostDecider, events);
      if (state.kind !== 'host') throw new Error(`${hostId} not folded`);
      return hostCandidate(state, counts[hostId as keyof typeof counts] ?? 0);
    };
    const snapshot = hostCapacitySnapshot(db, { zoneId: 'z1', accountInstanceCounts: counts });
    expect(snapshot).toEqual({ hosts: [await folded('h1'), await folded('h2'), await folded('h3')] });
    expect(snapshot.hosts[0]).toMatchObject({ usedCpu: 4000, usedMemory: 4096, hostTags: ['ssd'], state: 'Up' });
    expect(hostCapacitySnapshot(db, { clusterId: 'c2' }).hosts.map((h) => [h.hostId, h.state, h.accountInstanceCount])).toEqual([['h3', 'Down', 0]]);

    // Fed to the real planner: h2 has only 2000 MHz free, h3 is down, so 2 × 2000 MHz can only go to h1.
    const plan = planHost(
      { cpuNumber: 2, cpuSpeed: 2000, memory: 1024, hostTags: [], algorithm: 'firstfit', capacityType: 'CPU', cpuToMemoryWeight: 0.5 },
      snapshot,
      () => 0,
    );
    expect(isRejection(plan) ? plan : plan.candidates).toEqual(['h1']);
  });

  it('pages with cursors and refuses cursors it did not issue', async () => {
    for (const n of [1, 2, 3, 4, 5]) await addHost(`h${n}`, `sim-host-${n}`);
    const db = await synced();

    const first = listHosts(db, { first: 2 });
    expect(first.nodes.map((h) => h.id)).toEqual(['h1', 'h2']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.totalCount).toBe(5);
    const second = listHosts(db, { first: 2, after: first.pageInfo.endCursor });
    expect(second.nodes.map((h) => h.id)).toEqual(['h3', 'h4']);
    expect(second.pageInfo.hasNextPage).toBe(true);

    // Keyset paging: a host added between pages is still reached, nothing is skipped or repeated.
    await addHost('h6', 'sim-host-6');
    const later = await synced();
    const third = listHosts(later, { first: 2, after: second.pageInfo.endCursor });
    expect(third.nodes.map((h) => h.id)).toEqual(['h5', 'h6']);
    expect(third.pageInfo.hasNextPage).toBe(false);
    expect(third.totalCount).toBe(6);

    expect(listHosts(later, { first: 0 })).toEqual({ nodes: [], pageInfo: { hasNextPage: true, endCursor: null }, totalCount: 6 });
    expect(() => listHosts(later, { after: 'not-a-cursor' })).toThrow(InvalidPageRequestError);
    expect(() => listHosts(later, { first: 501 })).toThrow(InvalidPageRequestError);
    const wrongKind = Buffer.from(JSON.stringify([7, 'nic-1'])).toString('base64url');
    expect(() => listHosts(later, { after: wrongKind })).toThrow(InvalidPageRequestError);
    expect(() => listNetworkAddresses(later, 'n1', { after: first.pageInfo.endCursor })).toThrow(InvalidPageRequestError);
  });

  it('tracks storage pool allocation per volume', async () => {
    const pool = (poolId: string, name: string) =>
      exec(storagePoolStream(poolId), storagePoolDecider, {
        type: 'CreateStoragePool',
        poolId,
        zoneId: 'z1',
        scope: 'ZONE',
        name,
        poolType: 'NFS',
        server: '10.0.0.2',
        path: `/export/${name}`,
        capacityBytes: 1024 * GIB,
        tags: ['fast'],
        at: now(),
      });
    const reserveSpace = (volumeId: string, bytes: number) => exec(storagePoolStream('p1'), storagePoolDecider, { type: 'ReserveStorage', volumeId, bytes });
    await pool('p1', 'demo-nfs');
    await exec(storagePoolStream('p2'), storagePoolDecider, {
      type: 'CreateStoragePool',
      poolId: 'p2',
      zoneId: 'z1',
      scope: 'HOST',
      clusterId: 'c1',
      hostId: 'h1',
      name: 'local-h1',
      poolType: 'local',
      path: '/var/lib/libvirt/images',
      capacityBytes: 100 * GIB,
      at: now(),
    });
    await reserveSpace('v1', 10 * GIB);
    await reserveSpace('v2', 20 * GIB);
    await reserveSpace('v1', 15 * GIB);
    await exec(storagePoolStream('p1'), storagePoolDecider, { type: 'ReleaseStorage', volumeId: 'v2' });
    const db = await synced();

    expect(listStoragePools(db, { zoneId: 'z1' }).nodes).toEqual([
      {
        id: 'p1',
        name: 'demo-nfs',
        zoneId: 'z1',
        clusterId: null,
        hostId: null,
        scope: 'ZONE',
        type: 'NFS',
        server: '10.0.0.2',
        path: '/export/demo-nfs',
        capacityBytes: 1024 * GIB,
        allocatedBytes: 15 * GIB,
        freeBytes: 1009 * GIB,
        tags: ['fast'],
        created: time(1),
      },
      {
        id: 'p2',
        name: 'local-h1',
        zoneId: 'z1',
        clusterId: 'c1',
        hostId: 'h1',
        scope: 'HOST',
        type: 'local',
        server: null,
        path: '/var/lib/libvirt/images',
        capacityBytes: 100 * GIB,
        allocatedBytes: 0,
        freeBytes: 100 * GIB,
        tags: [],
        created: time(2),
      },
    ]);
    expect(listStoragePools(db, { clusterId: 'c1' }).nodes.map((p) => p.id)).toEqual(['p2']);
  });

  it('lists networks and the addresses their NICs hold', async () => {
    const create = (networkId: string, name: string, networkType: 'L2' | 'Shared', vlan: number, cidr?: string) =>
      exec(networkStream(networkId), networkDecider, {
        type: 'CreateNetwork',
        networkId,
        zoneId: 'z1',
        name,
        networkType,
        vlan,
        cidr: cidr ?? null,
        networkOfferingId: 'no-1',
        at: now(),
      });
    const allocate = (networkId: string, nicId: string, instanceId: string, requestedIp?: string) =>
      allocateNicAddress(new Commander(store), hints(store, model), { networkId, nicId, instanceId, requestedIp: requestedIp ?? null, macSeed: 0 }, envelope());
    await create('n1', 'demo-l2', 'L2', 100);
    await create('n2', 'demo-shared', 'Shared', 200, '10.1.0.0/24');
    await create('n3', 'scratch', 'L2', 300);
    await exec(networkStream('n3'), networkDecider, { type: 'DeleteNetwork' });
    await allocate('n2', 'nic-a', 'i1');
    await allocate('n2', 'nic-b', 'i2');
    await allocate('n2', 'nic-c', 'i3', '10.1.0.50');
    await releaseNicAddress(new Commander(store), { networkId: 'n2', nicId: 'nic-a' }, envelope());
    await synced();
    await allocate('n2', 'nic-d', 'i4');
    await allocate('n1', 'nic-e', 'i4');
    const db = await synced();

    expect(listNetworks(db, { zoneId: 'z1' }).nodes).toEqual([
      {
        id: 'n1',
        name: 'demo-l2',
        zoneId: 'z1',
        type: 'L2',
        vlan: 100,
        cidr: null,
        gateway: null,
        netmask: null,
        networkOfferingId: 'no-1',
        accountId: null,
        state: 'Setup',
        removed: false,
        created: time(1),
      },
      {
        id: 'n2',
        name: 'demo-shared',
        zoneId: 'z1',
        type: 'Shared',
        vlan: 200,
        cidr: '10.1.0.0/24',
        gateway: '10.1.0.1',
        netmask: '255.255.255.0',
        networkOfferingId: 'no-1',
        accountId: null,
        state: 'Setup',
        removed: false,
        created: time(2),
      },
    ]);
    expect(listNetworks(db, { id: 'n3' }).nodes).toEqual([]);
    expect(getNetwork(db, 'n3', { includeRemoved: true })).toMatchObject({ state: 'Destroy', removed: true });

    // The released 10.1.0.2 is handed out again (lowest free first), and so is its MAC (the same
    // seed; a deployment draws a random one).
    expect(listNetworkAddresses(db, 'n2').nodes).toEqual([
      { networkId: 'n2', nicId: 'nic-b', instanceId: 'i2', mac: '02:00:00:00:00:01', ip: '10.1.0.3' },
      { networkId: 'n2', nicId: 'nic-c', instanceId: 'i3', mac: '02:00:00:00:00:02', ip: '10.1.0.50' },
      { networkId: 'n2', nicId: 'nic-d', instanceId: 'i4', mac: '02:00:00:00:00:00', ip: '10.1.0.2' },
    ]);
    const page = listNetworkAddresses(db, 'n2', { first: 1 });
    expect([page.nodes.map((a) => a.nicId), page.pageInfo.hasNextPage, page.totalCount]).toEqual([['nic-b'], true, 3]);
    expect(listNetworkAddresses(db, 'n2', { first: 5, after: page.pageInfo.endCursor }).nodes.map((a) => a.nicId)).toEqual(['nic-c', 'nic-d']);
    expect(listInstanceAddresses(db, 'i4')).toEqual([
      { networkId: 'n2', nicId: 'nic-d', instanceId: 'i4', mac: '02:00:00:00:00:00', ip: '10.1.0.2' },
      { networkId: 'n1', nicId: 'nic-e', instanceId: 'i4', mac: '02:00:00:00:00:00', ip: null },
    ]);
  });

  it('shows every kind of offering and hides deleted ones', async () => {
    const service = (offeringId: string, fields: Record<string, unknown>) =>
      exec(offeringStream(offeringId), offeringDecider, {
        type: 'CreateServiceOffering',
        offeringId,
        name: String(fields.name),
        leaseFeatureEnabled: true,
        at: now(),
        ...fields,
      });
    await service('so-small', { name: 'Small Instance', cpuNumber: 1, cpuSpeed: 500, memory: 512 });
    await service('so-custom', {
      name: 'Custom Constrained',
      customized: true,
      cpuSpeed: 2000,
      minCpuNumber: 1,
      maxCpuNumber: 8,
      minMemory: 512,
      maxMemory: 16384,
      hostTags: ['ssd'],
      dynamicScalingEnabled: false,
      offerHa: true,
      leaseDuration: 30,
      leaseExpiryAction: 'stop',
    });
    await service('so-free', { name: 'Unconstrained', displayText: 'Anything goes' });
    await service('so-old', { name: 'Retired', cpuNumber: 2, cpuSpeed: 1000, memory: 1024 });
    await exec(offeringStream('so-old'), offeringDecider, { type: 'DeleteOffering' });
    await exec(offeringStream('do-small'), offeringDecider, { type: 'CreateDiskOffering', offeringId: 'do-small', name: 'Small', diskSize: 5 * GIB, at: now() });
    await exec(offeringStream('do-custom'), offeringDecider, {
      type: 'CreateDiskOffering',
      offeringId: 'do-custom',
      name: 'Custom',
      storageTags: ['fast'],
      at: now(),
    });
    const db = await synced();

    const none = { minCpuNumber: null, maxCpuNumber: null, minMemory: null, maxMemory: null };
    const common = { hostTags: [], storageTags: [], isVolatile: false, dynamicScalingEnabled: true, offerHa: false, leaseDuration: null, leaseExpiryAction: null, removed: false };
    expect(listServiceOfferings(db)).toEqual({
      nodes: [
        {
          id: 'so-small',
          name: 'Small Instance',
          displayText: 'Small Instance',
          computeKind: 'fixed',
          customized: false,
          cpuNumber: 1,
          cpuSpeed: 500,
          memory: 512,
          ...none,
          ...common,
          created: time(1),
        },
        {
          id: 'so-custom',
          name: 'Custom Constrained',
          displayText: 'Custom Constrained',
          computeKind: 'customConstrained',
          customized: true,
          cpuNumber: null,
          cpuSpeed: 2000,
          memory: null,
          minCpuNumber: 1,
          maxCpuNumber: 8,
          minMemory: 512,
          maxMemory: 16384,
          ...common,
          hostTags: ['ssd'],
          dynamicScalingEnabled: false,
          offerHa: true,
          leaseDuration: 30,
          leaseExpiryAction: 'STOP',
          created: time(2),
        },
        {
          id: 'so-free',
          name: 'Unconstrained',
          displayText: 'Anything goes',
          computeKind: 'customUnconstrained',
          customized: true,
          cpuNumber: null,
          cpuSpeed: null,
          memory: null,
          ...none,
          ...common,
          created: time(3),
        },
      ],
      pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
      totalCount: 3,
    });
    expect(getServiceOffering(db, 'so-old')).toBeUndefined();
    expect(getServiceOffering(db, 'so-old', { includeRemoved: true })).toMatchObject({ name: 'Retired', cpuNumber: 2, removed: true });
    expect(getServiceOffering(db, 'so-small')?.memory).toBe(512);
    expect(listDiskOfferings(db).nodes).toEqual([
      { id: 'do-small', name: 'Small', displayText: 'Small', diskSize: 5 * GIB, customized: false, storageTags: [], removed: false, created: time(5) },
      { id: 'do-custom', name: 'Custom', displayText: 'Custom', diskSize: null, customized: true, storageTags: ['fast'], removed: false, created: time(6) },
    ]);
  });

  it('lists templates usable in a zone and hides deleted ones', async () => {
    const register = (templateId: string, name: string, zoneId: string | null) =>
      exec(templateStream(templateId), templateDecider, {
        type: 'RegisterTemplate',
        templateId,
        name,
        osTypeName: 'Debian GNU/Linux 12 (64-bit)',
        url: `http://images.example/${name}.qcow2`,
        format: 'QCOW2',
        hypervisor: 'KVM',
        size: 2 * GIB,
        isDynamicallyScalable: true,
        zoneId,
        at: now(),
      });
    await register('t1', 'demo-linux', null);
    await register('t2', 'zone-two-only', 'z2');
    await register('t3', 'old', 'z1');
    await exec(templateStream('t3'), templateDecider, { type: 'DeleteTemplate' });
    const db = await synced();

    expect(getTemplate(db, 't1')).toEqual({
      id: 't1',
      name: 'demo-linux',
      displayText: 'demo-linux',
      osTypeName: 'Debian GNU/Linux 12 (64-bit)',
      osTypeId: osTypeByDescription('Debian GNU/Linux 12 (64-bit)')!.id,
      size: 2 * GIB,
      format: 'QCOW2',
      hypervisor: 'KVM',
      isDynamicallyScalable: true,
      url: 'http://images.example/demo-linux.qcow2',
      zoneId: null,
      accountId: null,
      isPublic: true,
      removed: false,
      created: time(1),
    });
    expect(listTemplates(db).nodes.map((t) => t.id)).toEqual(['t1', 't2']);
    expect(listTemplates(db, { zoneId: 'z1' }).nodes.map((t) => t.id)).toEqual(['t1']);
    expect(getTemplate(db, 't3')).toBeUndefined();
    expect(getTemplate(db, 't3', { includeRemoved: true })?.removed).toBe(true);
  });

  it('rebuilds to identical query results from the same log', async () => {
    await createZone('z1', 'demo-zone');
    await addCluster('z1', 'c1', 'demo-cluster');
    await addHost('h1', 'sim-host-1');
    await addHost('h2', 'sim-host-2');
    await reserve('h1', 'i1', 2, 1000, 2048);
    await reserve('h1', 'i1', 4, 1000, 2048);
    await reserve('h2', 'i2', 1, 500, 512);
    await release('h2', 'i2');
    await exec(networkStream('n1'), networkDecider, {
      type: 'CreateNetwork',
      networkId: 'n1',
      zoneId: 'z1',
      name: 'demo-shared',
      networkType: 'Shared',
      vlan: 200,
      cidr: '10.1.0.0/24',
      networkOfferingId: 'no-1',
      at: now(),
    });
    await allocateNicAddress(new Commander(store), hints(store, model), { networkId: 'n1', nicId: 'nic-1', instanceId: 'i1', macSeed: 77 }, envelope());
    await exec(offeringStream('so-1'), offeringDecider, {
      type: 'CreateServiceOffering',
      offeringId: 'so-1',
      name: 'Medium Instance',
      cpuNumber: 2,
      cpuSpeed: 1000,
      memory: 1024,
      leaseFeatureEnabled: false,
      at: now(),
    });
    const everything = (db: Database) => ({
      zones: listZones(db),
      clusters: listClusters(db),
      hosts: listHosts(db),
      hostPage: listHosts(db, { first: 1 }),
      reservations: listHostReservations(db, 'h1'),
      snapshot: hostCapacitySnapshot(db),
      pools: listStoragePools(db),
      networks: listNetworks(db),
      addresses: listNetworkAddresses(db, 'n1'),
      offerings: listServiceOfferings(db),
      disks: listDiskOfferings(db),
      templates: listTemplates(db),
    });
    const original = everything(await synced());
    const rebuilt = everything(await synced(await openModel()));
    expect(rebuilt).toEqual(original);
    expect(original.hosts.nodes[0]).toMatchObject({ cpuAllocated: 4000, memoryAllocated: 2048 });
    expect(original.addresses.nodes).toHaveLength(1);
  });
});
