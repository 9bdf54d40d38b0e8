import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  describeHypervisorConformance,
  eventually,
  expectDriverError,
  tinyDomainSpec,
} from '../../adapters/hypervisor/conformance.js';
import type { DomainSpec } from '../../adapters/hypervisor/protocol.js';
import { SimulatedCloud, type SimulatorHostConfig } from '../../adapters/hypervisor/simulator/index.js';

const HOST = { cpuNumber: 16, cpuSpeed: 2000, memory: 65536 } as const;

describeHypervisorConformance('simulator', async () => {
  const cloud = new SimulatedCloud();
  // What a libvirt 9.0 host can do, so the suite takes the same paths on both drivers.
  const capabilities = ['snapshot.memory', 'snapshot.disk.stopped'] as const;
  const driver = cloud.addHost('sim-a', { ...HOST, capabilities });
  const targetDriver = cloud.addHost('sim-b', { ...HOST, capabilities });
  return {
    driver,
    targetDriver,
    migratesSnapshots: true,
    powerOffFromInside: async (name) => driver.powerOffFromInside(name),
    ignoreShutdown: async (name) => driver.ignoreShutdown(name),
    dispose: async () => {},
  };
});

function spec(overrides: Partial<DomainSpec> = {}): DomainSpec {
  return { ...tinyDomainSpec(`i-${randomUUID().slice(0, 8)}`), ...overrides };
}

function twoHosts(a: Partial<SimulatorHostConfig> = {}, b: Partial<SimulatorHostConfig> = {}) {
  const cloud = new SimulatedCloud();
  return { cloud, source: cloud.addHost('h1', { ...HOST, ...a }), target: cloud.addHost('h2', { ...HOST, ...b }) };
}

describe('simulator driver', () => {
  describe('delays', () => {
    it('a start takes startDelayMs, holding the capacity and showing the domain off meanwhile', async () => {
      const { source } = twoHosts({ startDelayMs: 60 });
      const domain = spec();
      let done = false;
      const starting = source.startDomain(domain).then((state) => {
        done = true;
        return state;
      });
      await new Promise((resolve) => setTimeout(resolve, 15));
      expect(done).toBe(false);
      expect(source.powerStateOf(domain.instanceName)).toBe('stopped');
      expect(source.allocated()).toEqual({ cpuMhz: 100, memory: 64 });
      expect(await starting).toBe('running');
      expect(source.powerStateOf(domain.instanceName)).toBe('running');
    });

    it('a graceful stop takes stopDelayMs and shows the domain running meanwhile; a forced one does not wait', async () => {
      const { source } = twoHosts({ stopDelayMs: 60 });
      const domain = spec();
      await source.startDomain(domain);
      let done = false;
      const stopping = source.stopDomain(domain, { forced: false, timeoutMs: 10_000 }).then((state) => {
        done = true;
        return state;
      });
      await new Promise((resolve) => setTimeout(resolve, 15));
      expect(done).toBe(false);
      expect(source.powerStateOf(domain.instanceName)).toBe('running');
      expect(await stopping).toBe('stopped');

      source.setDelays({ stopDelayMs: 3_600_000 });
      await source.startDomain(domain);
      expect(await source.stopDomain(domain, { forced: true, timeoutMs: 0 })).toBe('stopped');
    });

    it('a graceful stop slower than its timeout fails with TIMEOUT and leaves the domain running', async () => {
      const { source } = twoHosts({ stopDelayMs: 3_600_000 });
      const domain = spec();
      await source.startDomain(domain);
      const error = await expectDriverError(source.stopDomain(domain, { forced: false, timeoutMs: 30 }), 'TIMEOUT');
      expect(error.detail).toContain('3600000');
      expect(source.powerStateOf(domain.instanceName)).toBe('running');
      expect(await source.rebootDomain(domain, { forced: true })).toBe('running');
    });

    it('a guest that powers off while a graceful stop waits ends the wait', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      source.ignoreShutdown(domain.instanceName);
      // Without the wake-up the stop would wait out its timeout and fail with TIMEOUT.
      const stopping = source.stopDomain(domain, { forced: false, timeoutMs: 2_000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      source.powerOffFromInside(domain.instanceName);
      expect(await stopping).toBe('stopped');
    });

    it('operations on one domain run in the order they were asked for', async () => {
      const { source } = twoHosts({ startDelayMs: 20, stopDelayMs: 20 });
      const domain = spec();
      const order: string[] = [];
      await Promise.all([
        source.startDomain(domain).then(() => order.push('start')),
        source.stopDomain(domain, { forced: false, timeoutMs: 1_000 }).then((s) => order.push(`stop:${s}`)),
        source.startDomain(domain).then(() => order.push('start')),
      ]);
      expect(order).toEqual(['start', 'stop:stopped', 'start']);
      expect(source.powerStateOf(domain.instanceName)).toBe('running');
    });

    it('zero delays go through setImmediate, never a setTimeout with its 1 ms floor', async () => {
      const { source, target } = twoHosts();
      const domain = spec();
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        // With frozen timeouts an operation that used one would never finish; 100 turns bound the wait.
        const turns = async (): Promise<'stuck'> => {
          for (let i = 0; i < 100; i++) await new Promise((resolve) => setImmediate(resolve));
          return 'stuck';
        };
        const all = (async () => {
          await source.startDomain(domain);
          await source.rebootDomain(domain, { forced: false });
          await source.migrateDomain(domain, target.hostId);
          return target.stopDomain(domain, { forced: false, timeoutMs: 1_000 });
        })();
        expect(await Promise.race([all, turns()])).toBe('stopped');
      } finally {
        vi.useRealTimers();
      }
    });
  });

  describe('injected faults', () => {
    it.each([
      ['START', 'startDomain'],
      ['STOP', 'stopDomain'],
      ['REBOOT', 'rebootDomain'],
      ['MIGRATE', 'migrateDomain'],
    ] as const)('failOn %s fails %s with INJECTED_FAULT and changes nothing', async (operation, method) => {
      const { cloud, source, target } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      source.setFaults([operation]);
      const attempt = {
        startDomain: () => source.startDomain(spec()),
        stopDomain: () => source.stopDomain(domain, { forced: true, timeoutMs: 0 }),
        rebootDomain: () => source.rebootDomain(domain, { forced: false }),
        migrateDomain: () => source.migrateDomain(domain, target.hostId),
      }[method];
      const error = await expectDriverError(attempt(), 'INJECTED_FAULT');
      expect(error.detail).toContain(operation);
      expect(cloud.locate(domain.instanceName)).toEqual([{ hostId: 'h1', powerState: 'running' }]);
      expect((await source.listDomains()).length).toBe(1);

      source.setFaults([]);
      await expect(attempt()).resolves.toBeDefined();
    });

    it('takes failOn from the host configuration and leaves other operations alone', async () => {
      const { source } = twoHosts({ failOn: ['STOP', 'SNAPSHOT'] });
      const domain = spec();
      expect(await source.startDomain(domain)).toBe('running');
      await expectDriverError(source.stopDomain(domain, { forced: true, timeoutMs: 0 }), 'INJECTED_FAULT');
      expect(await source.rebootDomain(domain, { forced: true })).toBe('running');
      await source.destroyDomain(domain, domain.volumes);
      expect(source.powerStateOf(domain.instanceName)).toBe('missing');
    });
  });

  describe('snapshots', () => {
    const snapshotOf = (domain: DomainSpec, n = 1) => `${domain.instanceName}_VS_2026010100000${n}`;
    const memory = { kind: 'DiskAndMemory', quiesce: false, description: null } as const;

    it('reports every snapshot kind by default, and no conversion', async () => {
      const { source } = twoHosts();
      expect((await source.hostInfo()).capabilities).toEqual(['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running']);
    });

    it('takes a disk-only snapshot of a running domain where snapshot.disk.running is on; reverting to it stops the domain', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      const taken = await source.createDomainSnapshot(domain, snapshotOf(domain), { kind: 'Disk', quiesce: true, description: null });
      expect(taken).toEqual({ powerState: 'running', snapshot: { name: snapshotOf(domain), sizeBytes: 0 } });
      expect(await source.revertDomainSnapshot(domain, snapshotOf(domain), 'Disk')).toBe('stopped');
      expect(source.allocated()).toEqual({ cpuMhz: 0, memory: 0 });
    });

    it('refuses a kind the host lacks with UNSUPPORTED, saying what to use instead', async () => {
      const { source } = twoHosts({ capabilities: ['snapshot.disk.running'] });
      const domain = spec();
      await source.startDomain(domain);
      const refused = await expectDriverError(source.createDomainSnapshot(domain, snapshotOf(domain), memory), 'UNSUPPORTED');
      expect(refused.message).toContain('cannot take snapshots with memory; take a disk-only snapshot');
      await source.stopDomain(domain, { forced: true, timeoutMs: 0 });
      const stopped = await expectDriverError(source.createDomainSnapshot(domain, snapshotOf(domain), { ...memory, kind: 'Disk' }), 'UNSUPPORTED');
      expect(stopped.message).toContain('cannot take disk-only snapshots of stopped domains');
      expect(await source.listDomainSnapshots(domain.instanceName)).toEqual([]);
    });

    it('reverting restores the resources the domain had when the snapshot was taken, as libvirt restores its definition', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      await source.createDomainSnapshot(domain, snapshotOf(domain), memory);
      await source.scaleDomain(domain, 2, 200, 256);
      expect(await source.revertDomainSnapshot(domain, snapshotOf(domain), 'DiskAndMemory')).toBe('running');
      expect(await source.describeDomain(domain.instanceName)).toMatchObject({ cpuNumber: 1, cpuSpeed: 100, memory: 64 });
      expect(source.allocated()).toEqual({ cpuMhz: 100, memory: 64 });
      // A snapshot's kind is the host's record: a revert asking for the other kind is refused.
      await expectDriverError(source.revertDomainSnapshot(domain, snapshotOf(domain), 'Disk'), 'REMOTE_COMMAND_FAILED');
    });

    it('refuses to revert to a memory snapshot the host can no longer fit', async () => {
      const { source } = twoHosts({ memory: 1024 });
      const domain = spec({ memory: 512 });
      await source.startDomain(domain);
      await source.createDomainSnapshot(domain, snapshotOf(domain), memory);
      await source.stopDomain(domain, { forced: true, timeoutMs: 0 });
      await source.startDomain(spec({ memory: 768 }));
      await expectDriverError(source.revertDomainSnapshot(domain, snapshotOf(domain), 'DiskAndMemory'), 'INSUFFICIENT_CAPACITY');
      expect(source.powerStateOf(domain.instanceName)).toBe('stopped');
    });

    it('snapshot operations take snapshotDelayMs', async () => {
      const { source } = twoHosts({ snapshotDelayMs: 60 });
      const domain = spec();
      await source.startDomain(domain);
      let done = false;
      const taking = source.createDomainSnapshot(domain, snapshotOf(domain), memory).then((taken) => {
        done = true;
        return taken;
      });
      await new Promise((resolve) => setTimeout(resolve, 15));
      expect(done).toBe(false);
      expect(await source.listDomainSnapshots(domain.instanceName)).toEqual([]);
      expect((await taking).snapshot.name).toBe(snapshotOf(domain));
    });

    it('failOn SNAPSHOT fails create, revert and delete with INJECTED_FAULT and changes nothing', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      await source.createDomainSnapshot(domain, snapshotOf(domain, 1), memory);
      const before = await source.listDomainSnapshots(domain.instanceName);
      source.setFaults(['SNAPSHOT']);
      for (const attempt of [
        () => source.createDomainSnapshot(domain, snapshotOf(domain, 2), memory),
        () => source.revertDomainSnapshot(domain, snapshotOf(domain, 1), 'DiskAndMemory'),
        () => source.deleteDomainSnapshot(domain, snapshotOf(domain, 1)),
      ]) {
        const error = await expectDriverError(attempt(), 'INJECTED_FAULT');
        expect(error.detail).toContain('SNAPSHOT');
      }
      expect(await source.listDomainSnapshots(domain.instanceName)).toEqual(before);
      // The other operations go on.
      expect(await source.rebootDomain(domain, { forced: true })).toBe('running');
    });
  });

  describe('capacity', () => {
    it('refuses a start beyond the memory or MHz the running domains leave', async () => {
      const { source } = twoHosts({ cpuNumber: 2, cpuSpeed: 1000, memory: 1024 });
      const first = spec({ memory: 768, cpuNumber: 1, cpuSpeed: 1000 });
      await source.startDomain(first);
      const tooMuchMemory = spec({ memory: 512 });
      const error = await expectDriverError(source.startDomain(tooMuchMemory), 'INSUFFICIENT_CAPACITY');
      expect(error.detail).toContain('256 MiB free');
      expect(source.powerStateOf(tooMuchMemory.instanceName)).toBe('missing');
      await expectDriverError(source.startDomain(spec({ memory: 64, cpuNumber: 2, cpuSpeed: 600 })), 'INSUFFICIENT_CAPACITY');
      expect(await source.startDomain(spec({ memory: 256, cpuNumber: 1, cpuSpeed: 1000 }))).toBe('running');
      expect(source.allocated()).toEqual({ cpuMhz: 2000, memory: 1024 });
    });

    it('refuses a domain with more cores or faster cores than the host has', async () => {
      const { source } = twoHosts({ cpuNumber: 2, cpuSpeed: 1000, memory: 4096 });
      await expectDriverError(source.startDomain(spec({ cpuNumber: 3, cpuSpeed: 100 })), 'INSUFFICIENT_CAPACITY');
      await expectDriverError(source.startDomain(spec({ cpuNumber: 1, cpuSpeed: 1001 })), 'INSUFFICIENT_CAPACITY');
    });

    it('a stopped domain frees its capacity, and starting it again needs it back', async () => {
      const { source } = twoHosts({ memory: 1024 });
      const a = spec({ memory: 1024 });
      const b = spec({ memory: 1024 });
      await source.startDomain(a);
      await source.stopDomain(a, { forced: true, timeoutMs: 0 });
      expect(await source.startDomain(b)).toBe('running');
      await expectDriverError(source.startDomain(a), 'INSUFFICIENT_CAPACITY');
      expect(source.powerStateOf(a.instanceName)).toBe('stopped');
    });

    it('two starts racing for the last memory: exactly one wins', async () => {
      const { source } = twoHosts({ memory: 1024, startDelayMs: 10 });
      const results = await Promise.allSettled([source.startDomain(spec({ memory: 1024 })), source.startDomain(spec({ memory: 1024 }))]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(source.allocated().memory).toBe(1024);
    });

    it('refuses a migration the target cannot fit and leaves the domain running on the source', async () => {
      const { cloud, source, target } = twoHosts({}, { memory: 512 });
      const domain = spec({ memory: 1024 });
      await source.startDomain(domain);
      await expectDriverError(source.migrateDomain(domain, target.hostId), 'INSUFFICIENT_CAPACITY');
      expect(cloud.locate(domain.instanceName)).toEqual([{ hostId: 'h1', powerState: 'running' }]);
      expect(target.allocated()).toEqual({ cpuMhz: 0, memory: 0 });
    });

    it('refuses to scale a running domain beyond the host, but a stopped one may be', async () => {
      const { source } = twoHosts({ memory: 1024 });
      const domain = spec({ memory: 512 });
      await source.startDomain(domain);
      await expectDriverError(source.scaleDomain(domain, 1, 100, 2048), 'INSUFFICIENT_CAPACITY');
      expect((await source.describeDomain(domain.instanceName))?.memory).toBe(512);
      expect(await source.scaleDomain(domain, 1, 100, 1024)).toBe('running');
      await source.stopDomain(domain, { forced: true, timeoutMs: 0 });
      expect(await source.scaleDomain(domain, 1, 100, 2048)).toBe('stopped');
    });
  });

  describe('disks, NICs and migration', () => {
    it('creates disks on shared storage, keeps them across restarts and migration, and removes them on destroy', async () => {
      const { cloud, source, target } = twoHosts();
      const domain = spec();
      const [root, data] = domain.volumes;
      await source.startDomain(domain);
      expect(cloud.diskSize(root!.volumeId)).toBe(root!.size);
      expect(cloud.diskSize(data!.volumeId)).toBe(data!.size);
      // A restart with a bigger size in the spec does not recreate the existing disk.
      await source.stopDomain(domain, { forced: true, timeoutMs: 0 });
      await source.startDomain({ ...domain, volumes: [{ ...root!, size: root!.size * 2 }, data!] });
      expect(cloud.diskSize(root!.volumeId)).toBe(root!.size);

      await source.migrateDomain(domain, target.hostId);
      expect(cloud.locate(domain.instanceName)).toEqual([{ hostId: 'h2', powerState: 'running' }]);
      expect((await target.describeDomain(domain.instanceName))?.macs).toEqual(domain.nics.map((nic) => nic.mac));
      expect(source.allocated()).toEqual({ cpuMhz: 0, memory: 0 });
      expect(target.allocated()).toEqual({ cpuMhz: 100, memory: 64 });

      await target.destroyDomain(domain, domain.volumes);
      expect(cloud.diskSize(root!.volumeId)).toBeUndefined();
      expect(cloud.locate(domain.instanceName)).toEqual([]);
    });

    it('a restart redefines the domain from the new spec', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      await source.stopDomain(domain, { forced: true, timeoutMs: 0 });
      await source.startDomain({ ...domain, cpuNumber: 2, memory: 128 });
      expect(await source.describeDomain(domain.instanceName)).toMatchObject({ cpuNumber: 2, memory: 128 });
    });

    it('migration fails for an unknown or identical target host', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      await expectDriverError(source.migrateDomain(domain, 'nowhere'), 'NOT_FOUND');
      await expectDriverError(source.migrateDomain(domain, 'h1'), 'REMOTE_COMMAND_FAILED');
      expect(source.powerStateOf(domain.instanceName)).toBe('running');
    });

    it('a guest that powers off during a migration aborts it and frees the target', async () => {
      const { cloud, source, target } = twoHosts({ startDelayMs: 150 });
      const domain = spec();
      await source.startDomain(domain);
      const migrating = source.migrateDomain(domain, target.hostId);
      await eventually(() => target.allocated().memory > 0, 1_000, 'the target to reserve memory');
      source.powerOffFromInside(domain.instanceName);
      await expectDriverError(migrating, 'REMOTE_COMMAND_FAILED');
      expect(cloud.locate(domain.instanceName)).toEqual([{ hostId: 'h1', powerState: 'stopped' }]);
      expect(target.allocated()).toEqual({ cpuMhz: 0, memory: 0 });
    });
  });

  describe('hooks', () => {
    it('powerOffFromInside refuses a stopped or unknown domain', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      await source.stopDomain(domain, { forced: true, timeoutMs: 0 });
      expect(() => source.powerOffFromInside(domain.instanceName)).toThrow(/not running/);
      expect(() => source.powerOffFromInside('i-nope')).toThrow(/not defined/);
    });

    it('every listener hears a change even when one throws', async () => {
      const { source } = twoHosts();
      const domain = spec();
      await source.startDomain(domain);
      const heard: string[] = [];
      source.onPowerStateChange(() => {
        throw new Error('boom');
      });
      source.onPowerStateChange((change) => heard.push(change.powerState));
      expect(() => source.powerOffFromInside(domain.instanceName)).toThrow(AggregateError);
      expect(heard).toEqual(['stopped']);
    });

    it('refuses a host configuration without capacity', () => {
      const cloud = new SimulatedCloud();
      expect(() => cloud.addHost('h', { cpuNumber: 0, cpuSpeed: 1000, memory: 1024 })).toThrow(RangeError);
      expect(() => cloud.addHost('h', { ...HOST, startDelayMs: -1 })).toThrow(RangeError);
      cloud.addHost('h', HOST);
      expect(() => cloud.addHost('h', HOST)).toThrow(/already exists/);
    });
  });
});
