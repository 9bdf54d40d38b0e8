// The one conformance suite every HypervisorDriver passes (simulator, libvirt over SSH). Each test uses
// domains of its own random names and destroys them afterwards, so the suite also runs on a real host
// that has other domains.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, type DriverErrorCode, type HypervisorDriver, type PowerStateChange } from './driver.js';
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

export function tinyDomainSpec(instanceName: string): DomainSpec {
  const mac = `02:${[...randomBytes(5)].map((byte) => byte.toString(16).padStart(2, '0')).join(':')}`;
  return {
    instanceId: randomUUID(),
    instanceName,
    cpuNumber: 1,
    cpuSpeed: 100,
    memory: 64,
    nics: [{ nicId: randomUUID(), networkId: 'net-conformance', mac, ip: null, vlan: null, deviceId: 0 }],
    volumes: [
      { volumeId: randomUUID(), type: 'ROOT', size: 64 * MiB, templateId: null },
      { volumeId: randomUUID(), type: 'DATADISK', size: 16 * MiB, templateId: null },
    ],
  };
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
        await driver.destroyDomain(spec.instanceName, spec.volumes);
        await other.destroyDomain(spec.instanceName, spec.volumes);
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
        await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 });
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
        expect(await driver.stopDomain(spec.instanceName, { forced: false, timeoutMs: 30_000 })).toBe('stopped');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        expect(await driver.stopDomain(spec.instanceName, { forced: false, timeoutMs: 30_000 })).toBe('stopped');
        expect(await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 })).toBe('stopped');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
      });

      it('forced stop destroys a running domain at once and keeps its definition', async () => {
        const spec = await running();
        expect(await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 })).toBe('stopped');
        expect((await driver.describeDomain(spec.instanceName))?.powerState).toBe('stopped');
      });

      it('stopping a domain the host does not know succeeds as missing', async () => {
        const name = `vmlc-${randomUUID().slice(0, 8)}`;
        expect(await driver.stopDomain(name, { forced: false, timeoutMs: 1_000 })).toBe('missing');
        expect(await driver.stopDomain(name, { forced: true, timeoutMs: 0 })).toBe('missing');
      });

      it('a graceful stop the guest ignores fails with TIMEOUT and leaves it running', async (context) => {
        if (!target.ignoreShutdown) {
          context.skip();
          return;
        }
        const spec = await running();
        await guestReady(spec.instanceName);
        await target.ignoreShutdown(spec.instanceName);
        await expectDriverError(driver.stopDomain(spec.instanceName, { forced: false, timeoutMs: 200 }), 'TIMEOUT');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
        expect(await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 })).toBe('stopped');
      });
    });

    describe('reboot', () => {
      it('reboots a running domain gracefully or forced and it stays running', async () => {
        const spec = await running();
        expect(await driver.rebootDomain(spec.instanceName, { forced: false })).toBe('running');
        expect(await driver.rebootDomain(spec.instanceName, { forced: true })).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
      });

      it('refuses to reboot a stopped domain with NOT_RUNNING and an unknown one with NOT_FOUND', async () => {
        const spec = await running();
        await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 });
        await expectDriverError(driver.rebootDomain(spec.instanceName, { forced: false }), 'NOT_RUNNING');
        await expectDriverError(driver.rebootDomain(spec.instanceName, { forced: true }), 'NOT_RUNNING');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        await expectDriverError(driver.rebootDomain(`vmlc-${randomUUID().slice(0, 8)}`, { forced: false }), 'NOT_FOUND');
      });
    });

    describe('migrate', () => {
      it('moves a running domain to the target, where it runs with the same resources, disks and NICs', async () => {
        const spec = await running();
        const before = await driver.describeDomain(spec.instanceName);
        expect(await driver.migrateDomain(spec.instanceName, other.hostId)).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
        expect(await driver.describeDomain(spec.instanceName)).toBeNull();
        expect(await stateOn(other, spec.instanceName)).toBe('running');
        expect(await other.describeDomain(spec.instanceName)).toEqual(before);
      });

      it('repeating a finished migration succeeds and changes nothing', async () => {
        const spec = await running();
        await driver.migrateDomain(spec.instanceName, other.hostId);
        expect(await driver.migrateDomain(spec.instanceName, other.hostId)).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
        expect(await stateOn(other, spec.instanceName)).toBe('running');
      });

      it('refuses a stopped domain with NOT_RUNNING and an unknown one with NOT_FOUND', async () => {
        const spec = await running();
        await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 });
        await expectDriverError(driver.migrateDomain(spec.instanceName, other.hostId), 'NOT_RUNNING');
        expect(await stateOn(driver, spec.instanceName)).toBe('stopped');
        expect(await stateOn(other, spec.instanceName)).toBe('missing');
        await expectDriverError(driver.migrateDomain(`vmlc-${randomUUID().slice(0, 8)}`, other.hostId), 'NOT_FOUND');
      });
    });

    describe('destroy', () => {
      it('removes a running domain; destroying it again succeeds', async () => {
        const spec = await running();
        await driver.destroyDomain(spec.instanceName, spec.volumes);
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
        expect(await driver.describeDomain(spec.instanceName)).toBeNull();
        await driver.destroyDomain(spec.instanceName, spec.volumes);
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
      });

      it('destroying a domain the host never had succeeds', async () => {
        const spec = newDomain();
        await driver.destroyDomain(spec.instanceName, spec.volumes);
        expect(await stateOn(driver, spec.instanceName)).toBe('missing');
      });

      it('a destroyed domain can be created again from its spec', async () => {
        const spec = await running();
        await driver.destroyDomain(spec.instanceName, spec.volumes);
        expect(await driver.startDomain(spec)).toBe('running');
        expect(await stateOn(driver, spec.instanceName)).toBe('running');
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
          await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 });
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
        expect(await driver.scaleDomain(spec.instanceName, bigger.cpuNumber, bigger.cpuSpeed, bigger.memory)).toBe('running');
        expect(await driver.describeDomain(spec.instanceName)).toMatchObject({ ...bigger, powerState: 'running' });
      });

      it('scales a stopped domain', async () => {
        const spec = await running();
        await driver.stopDomain(spec.instanceName, { forced: true, timeoutMs: 0 });
        expect(await driver.scaleDomain(spec.instanceName, 2, spec.cpuSpeed, spec.memory * 2)).toBe('stopped');
        expect(await driver.describeDomain(spec.instanceName)).toMatchObject({
          cpuNumber: 2,
          cpuSpeed: spec.cpuSpeed,
          memory: spec.memory * 2,
          powerState: 'stopped',
        });
      });

      it('refuses an unknown domain with NOT_FOUND', async () => {
        await expectDriverError(driver.scaleDomain(`vmlc-${randomUUID().slice(0, 8)}`, 1, 100, 64), 'NOT_FOUND');
      });
    });
  });
}
