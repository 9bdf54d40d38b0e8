// The one conformance suite every HypervisorDriver passes (simulator, libvirt over SSH). Each test uses
// domains of its own random names and destroys them afterwards, so the suite also runs on a real host
// that has other domains.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, type DomainRef, type DriverErrorCode, type HypervisorDriver, type PowerStateChange } from './driver.js';
import type { DomainSpec } from './protocol.js';

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
