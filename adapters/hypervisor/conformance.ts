// The one conformance suite every HypervisorDriver passes (simulator, libvirt over SSH). Each test uses
// domains of its own random names and destroys them afterwards, so the suite also runs on a real host
// that has other domains.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, type DomainRef, type DriverErrorCode, type HypervisorDriver, type PowerStateChange } from './driver.js';
import type { DomainSpec, VmSnapshotKind } from './protocol.js';
import { vmSnapshotName } from '../../domain/shared/instance-name.js';

export interface HypervisorConformanceTarget {
  readonly driver: HypervisorDriver;
  /** A second host `driver` can live-migrate to. */
  readonly targetDriver: HypervisorDriver;
  /** Makes a running guest on `driver` power itself off, behind the driver's back. */
  readonly powerOffFromInside: (instanceName: string) => Promise<void>;
  /** Makes the guest ignore ACPI shutdown requests; without it the TIMEOUT test is skipped. */
  readonly ignoreShutdown?: (instanceName: string) => Promise<void>;
  /** The spec of a test domain (a real host needs templates and networks it has); defaults to a tiny one. */
  readonly domainSpec?: (instanceName: string) => DomainSpec;
  /** How long an out-of-band change may take to reach a listener (a real driver polls or streams events). */
  readonly powerStateChangeWithinMs?: number;
  /**
   * Resolves once the guest of a domain just started on `driver` reacts to ACPI and to the hooks above
   * (a real guest boots for seconds first). Called before every step that needs the guest to act:
   * a graceful stop, `ignoreShutdown`, `powerOffFromInside`. Without it the guest counts as ready at once.
   */
  readonly awaitGuestReady?: (instanceName: string) => Promise<void>;
  /**
   * Whether a live migration takes the domain's snapshots along (true), or is refused with UNSUPPORTED
   * while the domain has any (false); the orchestrator refuses such a migration before either.
   */
  readonly migratesSnapshots: boolean;
  readonly dispose: () => Promise<void>;
}

const MiB = 1024 * 1024;

/** A name as vmledger gives its instances' domains (i-<account>-<instance>-VM), for the instance given. */
export function vmledgerInstanceName(instanceId: string, accountId = randomUUID()): string {
  return `i-${accountId}-${instanceId}-VM`;
}

/** A tiny spec; without a name, one as vmledger would give the instance. */
export function tinyDomainSpec(name?: string): DomainSpec {
  const mac = `02:${[...randomBytes(5)].map((byte) => byte.toString(16).padStart(2, '0')).join(':')}`;
  const instanceId = randomUUID();
  return {
    instanceId,
    instanceName: name ?? vmledgerInstanceName(instanceId),
    cpuNumber: 1,
    cpuSpeed: 100,
    memory: 64,
    nics: [{ nicId: randomUUID(), networkId: randomUUID(), mac, ip: null, vlan: null, deviceId: 0 }],
    volumes: [
      { volumeId: randomUUID(), type: 'ROOT', size: 64 * MiB, templateId: null },
      { volumeId: randomUUID(), type: 'DATADISK', size: 16 * MiB, templateId: null },
    ],
  };
}

/** A domain no host has: a fresh name and instance. */
export function unknownDomain(): DomainRef {
  return { instanceId: randomUUID(), instanceName: `vmlc-${randomUUID().slice(0, 8)}` };
}

export async function expectDriverError(operation: Promise<unknown>, code: DriverErrorCode): Promise<DriverError> {
  const error = await operation.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected DriverError ${code}`).toBeInstanceOf(DriverError);
  expect((error as DriverError).code).toBe(code);
  expect((error as DriverError).message).not.toBe('');
  return error as DriverError;
}

/** Polls until `check` holds or `withinMs` passes; every wait in the suite is bounded by it. */
export async function eventually(check: () => boolean | Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function describeHypervisorConformance(label: string, open: () => Promise<HypervisorConformanceTarget>): void {
  describe(`hypervisor driver conformance: ${label}`, () => {
    let target: HypervisorConformanceTarget;
    let driver: HypervisorDriver;
    let other: HypervisorDriver;
    const created: DomainSpec[] = [];

    beforeAll(async () => {
      target = await open();
      driver = target.driver;
      other = target.targetDriver;
    });
    afterEach(async () => {
      for (const spec of created.splice(0)) {
        await driver.destroyDomain(spec, spec.volumes);
        await other.destroyDomain(spec, spec.volumes);
      }
    });
    afterAll(async () => {
      await target?.dispose();
    });

    const newDomain = (): DomainSpec => {
      const name = `vmlc-${randomUUID().slice(0, 8)}`;
      const spec = (target.domainSpec ?? tinyDomainSpec)(name);
      created.push(spec);
      return spec;
    };
    const stateOn = async (on: HypervisorDriver, name: string): Promise<string> =>
      (await on.listDomains()).find((domain) => domain.instanceName === name)?.powerState ?? 'missing';
    const running = async (on: HypervisorDriver = driver): Promise<DomainSpec> => {
      const spec = newDomain();
      expect(await on.startDomain(spec)).toBe('running');
      return spec;
    };
    const changeWithinMs = (): number => target.powerStateChangeWithinMs ?? 5_000;
    const guestReady = async (name: string): Promise<void> => {
      await target.awaitGuestReady?.(name);
    };

    it('reports the host resources', async () => {
      const info = await driver.hostInfo();
      for (const value of [info.cpuNumber, info.cpuSpeed, info.memory]) {
        expect(Number.isInteger(value) && value > 0).toBe(true);
      }
    });

    describe('start', () => {
      it('defines the domain with its disks and NICs and runs it', async () => {
        const spec = await running();
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
        expect(await driver.describeDomain(spec.instanceName)).toEqual({
          instanceName: spec.instanceName,
          powerState: 'running',
          cpuNumber: spec.cpuNumber,
          cpuSpeed: spec.cpuSpeed,
          memory: spec.memory,
          disks: spec.volumes.map((volume) => ({ volumeId: volume.volumeId, size: volume.size })),
          macs: spec.nics.map((nic) => nic.mac),
        });
      });

      it('starting a running domain again succeeds and leaves one running domain', async () => {
        const spec = await running();
        const before = await driver.describeDomain(spec.instanceName);
        // A different spec shows that the running domain was left alone rather than redefined.
        expect(await driver.startDomain({ ...spec, memory: spec.memory * 2 })).toBe('running');
        expect(await driver.describeDomain(spec.instanceName)).toEqual(before);
        const listed = (await driver.listDomains()).filter((domain) => domain.instanceName === spec.instanceName);
        expect(listed).toEqual([{ instanceName: spec.instanceName, powerState: 'running' }]);
      });

      it('starts a stopped domain again with its disks', async () => {
        const spec = await running();
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        expect(await driver.startDomain(spec)).toBe('running');
        const described = await driver.describeDomain(spec.instanceName);
        expect(described?.powerState).toBe('running');
        expect(described?.disks.map((disk) => disk.volumeId)).toEqual(spec.volumes.map((volume) => volume.volumeId));
      });

      it('does not know a domain it never defined', async () => {
        const name = `vmlc-${randomUUID().slice(0, 8)}`;
        expect(await driver.describeDomain(name)).toBeNull();
        expect(await stateOn(driver, name)).toBe('missing');
      });
    });

    describe('stop', () => {
      it('shuts a running domain down gracefully, and stopping it again succeeds', async () => {
        const spec = await running();
        await guestReady(spec.instanceName);
        expect(await driver.stopDomain(spec, { forced: false, timeoutMs: 30_000 })).toBe('stopped');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        expect(await driver.stopDomain(spec, { forced: false, timeoutMs: 30_000 })).toBe('stopped');
        expect(await driver.stopDomain(spec, { forced: true, timeoutMs: 0 })).toBe('stopped');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
      });

      it('forced stop destroys a running domain at once and keeps its definition', async () => {
        const spec = await running();
        expect(await driver.stopDomain(spec, { forced: true, timeoutMs: 0 })).toBe('stopped');
        expect((await driver.describeDomain(spec.instanceName))?.powerState).toBe('stopped');
      });

      it('stopping a domain the host does not know succeeds as missing', async () => {
        const unknown = unknownDomain();
        expect(await driver.stopDomain(unknown, { forced: false, timeoutMs: 1_000 })).toBe('missing');
        expect(await driver.stopDomain(unknown, { forced: true, timeoutMs: 0 })).toBe('missing');
      });

      it('a graceful stop the guest ignores fails with TIMEOUT and leaves it running', async (context) => {
        if (!target.ignoreShutdown) {
          context.skip();
          return;
        }
        const spec = await running();
        await guestReady(spec.instanceName);
        await target.ignoreShutdown(spec.instanceName);
        await expectDriverError(driver.stopDomain(spec, { forced: false, timeoutMs: 200 }), 'TIMEOUT');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
        expect(await driver.stopDomain(spec, { forced: true, timeoutMs: 0 })).toBe('stopped');
      });
    });

    describe('reboot', () => {
      it('reboots a running domain gracefully or forced and it stays running', async () => {
        const spec = await running();
        expect(await driver.rebootDomain(spec, { forced: false })).toBe('running');
        expect(await driver.rebootDomain(spec, { forced: true })).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
      });

      it('refuses to reboot a stopped domain with NOT_RUNNING and an unknown one with NOT_FOUND', async () => {
        const spec = await running();
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        await expectDriverError(driver.rebootDomain(spec, { forced: false }), 'NOT_RUNNING');
        await expectDriverError(driver.rebootDomain(spec, { forced: true }), 'NOT_RUNNING');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        await expectDriverError(driver.rebootDomain(unknownDomain(), { forced: false }), 'NOT_FOUND');
      });
    });

    describe('migrate', () => {
      it('moves a running domain to the target, where it runs with the same resources, disks and NICs', async () => {
        const spec = await running();
        const before = await driver.describeDomain(spec.instanceName);
        expect(await driver.migrateDomain(spec, other.hostId)).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
        expect(await driver.describeDomain(spec.instanceName)).toBeNull();
        expect(await stateOn(other, spec.instanceName)).toBe('running');
        expect(await other.describeDomain(spec.instanceName)).toEqual(before);
      });

      it('repeating a finished migration succeeds and changes nothing', async () => {
        const spec = await running();
        await driver.migrateDomain(spec, other.hostId);
        expect(await driver.migrateDomain(spec, other.hostId)).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
        expect(await stateOn(other, spec.instanceName)).toBe('running');
      });

      it('refuses a stopped domain with NOT_RUNNING and an unknown one with NOT_FOUND', async () => {
        const spec = await running();
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        await expectDriverError(driver.migrateDomain(spec, other.hostId), 'NOT_RUNNING');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        expect(await stateOn(other, spec.instanceName)).toBe('missing');
        await expectDriverError(driver.migrateDomain(unknownDomain(), other.hostId), 'NOT_FOUND');
      });
    });

    describe('destroy', () => {
      it('removes a running domain; destroying it again succeeds', async () => {
        const spec = await running();
        await driver.destroyDomain(spec, spec.volumes);
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
        expect(await driver.describeDomain(spec.instanceName)).toBeNull();
        await driver.destroyDomain(spec, spec.volumes);
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
      });

      it('destroying a domain the host never had succeeds', async () => {
        const spec = newDomain();
        await driver.destroyDomain(spec, spec.volumes);
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
      });

      it('a destroyed domain can be created again from its spec', async () => {
        const spec = await running();
        await driver.destroyDomain(spec, spec.volumes);
        expect(await driver.startDomain(spec)).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
      });
    });

    describe('ownership', () => {
      // What a command forged, misrouted or confused would ask: the right name, another instance.
      const impostor = (spec: DomainSpec): DomainRef => ({ instanceId: randomUUID(), instanceName: spec.instanceName });

      it('refuses every operation on a domain of another instance with NOT_OWNED, and changes nothing', async () => {
        const spec = await running();
        const other = impostor(spec);
        await expectDriverError(driver.destroyDomain(other, spec.volumes), 'NOT_OWNED');
        await expectDriverError(driver.stopDomain(other, { forced: true, timeoutMs: 0 }), 'NOT_OWNED');
        await expectDriverError(driver.rebootDomain(other, { forced: true }), 'NOT_OWNED');
        await expectDriverError(driver.scaleDomain(other, spec.cpuNumber, spec.cpuSpeed, spec.memory * 2), 'NOT_OWNED');
        await expectDriverError(driver.migrateDomain(other, target.targetDriver.hostId), 'NOT_OWNED');
        await expectDriverError(driver.startDomain({ ...spec, instanceId: other.instanceId }), 'NOT_OWNED');
        expect(await driver.describeDomain(spec.instanceName)).toMatchObject({
          powerState: 'running',
          memory: spec.memory,
          disks: spec.volumes.map((volume) => ({ volumeId: volume.volumeId })),
        });
      });

      it("refuses to start a domain with another instance's disk", async () => {
        const victim = await running();
        const thief = newDomain();
        const spec: DomainSpec = { ...thief, volumes: [{ ...victim.volumes[1]!, type: 'ROOT', templateId: null }] };
        const error = await expectDriverError(driver.startDomain(spec), 'NOT_OWNED');
        expect(error.message).toContain(victim.volumes[1]!.volumeId);
        expect(await stateOn(driver, thief.instanceName)).toBe('missing');
        expect(await driver.describeDomain(victim.instanceName)).toMatchObject({ powerState: 'running' });
      });
    });

    describe('out-of-band power changes', () => {
      it('tells listeners when a guest powers itself off, and not those that unsubscribed', async () => {
        const spec = await running();
        const heard: PowerStateChange[] = [];
        const heardByGone: PowerStateChange[] = [];
        const unsubscribe = driver.onPowerStateChange((change) => heard.push(change));
        const unsubscribeGone = driver.onPowerStateChange((change) => heardByGone.push(change));
        unsubscribeGone();
        try {
          await guestReady(spec.instanceName);
          await target.powerOffFromInside(spec.instanceName);
          const mine = (): PowerStateChange[] => heard.filter((change) => change.instanceName === spec.instanceName);
          await eventually(() => mine().length > 0, changeWithinMs(), 'the power-off to reach the listener');
          expect(mine().at(-1)).toEqual({ instanceName: spec.instanceName, powerState: 'stopped' });
          expect(heardByGone.filter((change) => change.instanceName === spec.instanceName)).toEqual([]);
          expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        } finally {
          unsubscribe();
        }
      });

      it('does not report the changes the driver was asked for', async () => {
        const spec = await running();
        const heard: PowerStateChange[] = [];
        const unsubscribe = driver.onPowerStateChange((change) => heard.push(change));
        try {
          await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
          await driver.startDomain(spec);
          // A later out-of-band change bounds the wait: once it is heard, earlier ones would have been.
          await guestReady(spec.instanceName);
          await target.powerOffFromInside(spec.instanceName);
          await eventually(() => heard.some((c) => c.instanceName === spec.instanceName), changeWithinMs(), 'the power-off');
          expect(heard.filter((change) => change.instanceName === spec.instanceName)).toEqual([
            { instanceName: spec.instanceName, powerState: 'stopped' },
          ]);
        } finally {
          unsubscribe();
        }
      });
    });

    describe('snapshots', () => {
      /** The n-th snapshot name of a domain, as the orchestrator makes them. */
      const snapshotName = (spec: DomainSpec, n: number): string => vmSnapshotName(spec.instanceName, new Date(Date.UTC(2026, 0, 1, 0, 0, n)));
      const take = (spec: DomainSpec, name: string, kind: VmSnapshotKind) => driver.createDomainSnapshot(spec, name, { kind, quiesce: false, description: `conformance ${kind}` });
      const tree = async (on: HypervisorDriver, spec: DomainSpec) =>
        (await on.listDomainSnapshots(spec.instanceName)).map(({ name, kind, parent, current }) => ({ name, kind, parent, current }));

      it('takes a snapshot with memory of a running domain, once however often it is asked', async () => {
        const spec = await running();
        const s1 = snapshotName(spec, 1);
        const taken = await take(spec, s1, 'DiskAndMemory');
        expect(taken.powerState).toBe('running');
        expect(taken.snapshot.name).toBe(s1);
        expect(taken.snapshot.sizeBytes).toBeGreaterThan(0);
        expect(await tree(driver, spec)).toEqual([{ name: s1, kind: 'DiskAndMemory', parent: null, current: true }]);
        // A redelivered command: the same snapshot, the same size, nothing new.
        expect(await take(spec, s1, 'DiskAndMemory')).toEqual(taken);
        expect(await tree(driver, spec)).toEqual([{ name: s1, kind: 'DiskAndMemory', parent: null, current: true }]);
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
      });

      it('keeps the chain: a snapshot is a child of the current one, revert and delete move current as CloudStack does', async () => {
        const spec = await running();
        const [s1, s2, s3] = [1, 2, 3].map((n) => snapshotName(spec, n)) as [string, string, string];
        await take(spec, s1, 'DiskAndMemory');
        await take(spec, s2, 'DiskAndMemory');
        expect(await tree(driver, spec)).toEqual([
          { name: s1, kind: 'DiskAndMemory', parent: null, current: false },
          { name: s2, kind: 'DiskAndMemory', parent: s1, current: true },
        ]);
        expect(await driver.revertDomainSnapshot(spec, s1, 'DiskAndMemory')).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
        await take(spec, s3, 'DiskAndMemory');
        expect(await tree(driver, spec)).toEqual([
          { name: s1, kind: 'DiskAndMemory', parent: null, current: false },
          { name: s2, kind: 'DiskAndMemory', parent: s1, current: false },
          { name: s3, kind: 'DiskAndMemory', parent: s1, current: true },
        ]);
        // Deleting the parent re-parents its children; deleting the current one makes its parent current.
        expect(await driver.deleteDomainSnapshot(spec, s1)).toBe('running');
        expect(await tree(driver, spec)).toEqual([
          { name: s2, kind: 'DiskAndMemory', parent: null, current: false },
          { name: s3, kind: 'DiskAndMemory', parent: null, current: true },
        ]);
        await driver.revertDomainSnapshot(spec, s2, 'DiskAndMemory');
        await take(spec, s1, 'DiskAndMemory');
        await driver.deleteDomainSnapshot(spec, s1);
        expect(await tree(driver, spec)).toEqual([
          { name: s2, kind: 'DiskAndMemory', parent: null, current: true },
          { name: s3, kind: 'DiskAndMemory', parent: null, current: false },
        ]);
        // Deleting what is gone succeeds; reverting to it does not.
        expect(await driver.deleteDomainSnapshot(spec, s1)).toBe('running');
        await expectDriverError(driver.revertDomainSnapshot(spec, s1, 'DiskAndMemory'), 'NOT_FOUND');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
      });

      it('takes a disk-only snapshot of a stopped domain; reverting to it leaves the domain stopped, to a memory one running', async () => {
        const spec = await running();
        const [withMemory, diskOnly] = [1, 2].map((n) => snapshotName(spec, n)) as [string, string];
        await take(spec, withMemory, 'DiskAndMemory');
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        const taken = await take(spec, diskOnly, 'Disk');
        expect(taken.powerState).toBe('stopped');
        expect(taken.snapshot).toEqual({ name: diskOnly, sizeBytes: expect.any(Number) });
        expect(await take(spec, diskOnly, 'Disk')).toEqual(taken);
        expect(await tree(driver, spec)).toEqual([
          { name: withMemory, kind: 'DiskAndMemory', parent: null, current: false },
          { name: diskOnly, kind: 'Disk', parent: withMemory, current: true },
        ]);
        // Stopped → the memory snapshot's running state; running → the disk snapshot's stopped one.
        expect(await driver.revertDomainSnapshot(spec, withMemory, 'DiskAndMemory')).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
        expect(await driver.revertDomainSnapshot(spec, diskOnly, 'Disk')).toBe('stopped');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        expect((await tree(driver, spec)).find((snapshot) => snapshot.current)?.name).toBe(diskOnly);
        expect(await driver.startDomain(spec)).toBe('running');
      });

      it('refuses what it cannot take: memory of a stopped domain, disks of a running one without snapshot.disk.running', async () => {
        const spec = await running();
        const capabilities = (await driver.hostInfo()).capabilities;
        if (capabilities.includes('snapshot.disk.running')) {
          expect((await take(spec, snapshotName(spec, 1), 'Disk')).powerState).toBe('running');
        } else {
          const refused = await expectDriverError(take(spec, snapshotName(spec, 1), 'Disk'), 'UNSUPPORTED');
          // Says why, and what to do instead.
          expect(refused.message).toMatch(/cannot revert/);
          expect(refused.message).toMatch(/with memory, or stop the instance first/);
          expect(await tree(driver, spec)).toEqual([]);
        }
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        await expectDriverError(take(spec, snapshotName(spec, 2), 'DiskAndMemory'), 'NOT_RUNNING');
        expect((await tree(driver, spec)).map((snapshot) => snapshot.name)).not.toContain(snapshotName(spec, 2));
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
      });

      it('refuses a domain it does not know with NOT_FOUND, and one of another instance with NOT_OWNED', async () => {
        const unknown = { ...unknownDomain() };
        const name = `${unknown.instanceName}_VS_20260101000000`;
        await expectDriverError(driver.createDomainSnapshot(unknown, name, { kind: 'DiskAndMemory', quiesce: false, description: null }), 'NOT_FOUND');
        await expectDriverError(driver.revertDomainSnapshot(unknown, name, 'DiskAndMemory'), 'NOT_FOUND');
        // Deleting a snapshot of a domain that is gone is success: nothing of it is left.
        expect(await driver.deleteDomainSnapshot(unknown, name)).toBe('missing');

        const spec = await running();
        const s1 = snapshotName(spec, 1);
        await take(spec, s1, 'DiskAndMemory');
        const impostor: DomainRef = { instanceId: randomUUID(), instanceName: spec.instanceName };
        await expectDriverError(driver.createDomainSnapshot(impostor, snapshotName(spec, 2), { kind: 'DiskAndMemory', quiesce: false, description: null }), 'NOT_OWNED');
        await expectDriverError(driver.revertDomainSnapshot(impostor, s1, 'DiskAndMemory'), 'NOT_OWNED');
        await expectDriverError(driver.deleteDomainSnapshot(impostor, s1), 'NOT_OWNED');
        expect(await tree(driver, spec)).toEqual([{ name: s1, kind: 'DiskAndMemory', parent: null, current: true }]);
      });

      it('destroying the domain removes its snapshots; a domain created again from its spec has none', async () => {
        const spec = await running();
        const s1 = snapshotName(spec, 1);
        await take(spec, s1, 'DiskAndMemory');
        await driver.destroyDomain(spec, spec.volumes);
        expect(await driver.listDomainSnapshots(spec.instanceName)).toEqual([]);
        expect(await driver.startDomain(spec)).toBe('running');
        expect(await driver.listDomainSnapshots(spec.instanceName)).toEqual([]);
        await expectDriverError(driver.revertDomainSnapshot(spec, s1, 'DiskAndMemory'), 'NOT_FOUND');
      });

      it('keeps the snapshots across a stop and start', async () => {
        const spec = await running();
        const s1 = snapshotName(spec, 1);
        await take(spec, s1, 'DiskAndMemory');
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        expect(await driver.startDomain(spec)).toBe('running');
        expect(await tree(driver, spec)).toEqual([{ name: s1, kind: 'DiskAndMemory', parent: null, current: true }]);
      });

      it('a live migration takes the snapshots along, or is refused while there are any', async () => {
        const spec = await running();
        const s1 = snapshotName(spec, 1);
        await take(spec, s1, 'DiskAndMemory');
        if (target.migratesSnapshots) {
          expect(await driver.migrateDomain(spec, other.hostId)).toBe('running');
          expect(await tree(other, spec)).toEqual([{ name: s1, kind: 'DiskAndMemory', parent: null, current: true }]);
          expect(await driver.listDomainSnapshots(spec.instanceName)).toEqual([]);
          return;
        }
        const refused = await expectDriverError(driver.migrateDomain(spec, other.hostId), 'UNSUPPORTED');
        expect(refused.message).toContain('instance has VM snapshots; delete them before migrating');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
        expect(await stateOn(other, spec.instanceName)).toBe('missing');
        await driver.deleteDomainSnapshot(spec, s1);
        expect(await driver.migrateDomain(spec, other.hostId)).toBe('running');
      });
    });

    describe('scale', () => {
      it('scales a running domain live', async () => {
        const spec = await running();
        const bigger = { cpuNumber: spec.cpuNumber + 1, cpuSpeed: spec.cpuSpeed, memory: spec.memory * 2 };
        expect(await driver.scaleDomain(spec, bigger.cpuNumber, bigger.cpuSpeed, bigger.memory)).toBe('running');
        expect(await driver.describeDomain(spec.instanceName)).toMatchObject({ ...bigger, powerState: 'running' });
      });

      it('scales a stopped domain', async () => {
        const spec = await running();
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        expect(await driver.scaleDomain(spec, 2, spec.cpuSpeed, spec.memory * 2)).toBe('stopped');
        expect(await driver.describeDomain(spec.instanceName)).toMatchObject({
          cpuNumber: 2,
          cpuSpeed: spec.cpuSpeed,
          memory: spec.memory * 2,
          powerState: 'stopped',
        });
      });

      it('refuses an unknown domain with NOT_FOUND', async () => {
        await expectDriverError(driver.scaleDomain(unknownDomain(), 1, 100, 64), 'NOT_FOUND');
      });
    });
  });
}
