// The libvirt driver against real hosts: the libvirt testbed (tests/testbed/libvirt.sh) runs two
// libvirtd/QEMU hosts with their own sshd on loopback, kvm-a (the driver under test) and kvm-b (the
// migration target), and a tiny guest that boots in seconds under TCG, powers off on the ACPI power
// button and can be told (by a key press) to power off by itself or to ignore the button.
//
// `VMLEDGER_TEST_LIBVIRT` names the testbed's description (npm run test:all sets it; a missing file is
// then a failure). Without it the default place is tried, and without a testbed there these tests are
// skipped (the fast `npm test` runs without services).
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeHypervisorConformance, eventually, expectDriverError } from '../../adapters/hypervisor/conformance.js';
import type { PowerStateChange } from '../../adapters/hypervisor/driver.js';
import { buildDomainXml } from '../../adapters/hypervisor/libvirt/domain-xml.js';
import { LibvirtDriver } from '../../adapters/hypervisor/libvirt/libvirt-driver.js';
import {
  libvirtTestbedLocation,
  readLibvirtTestbed,
  runInTestbedHost,
  testbedHost,
  testbedHostConfig,
  type LibvirtTestbed,
} from '../testbed/libvirt-testbed.js';
import type { DomainSpec } from '../../adapters/hypervisor/protocol.js';
import { SshConnection } from '../../adapters/ssh/ssh-connection.js';

// Guests boot for seconds under TCG on two shared cores; the suite's steps wait for them.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const HOST_IDS = { 'kvm-a': 'a6c1f0de-2b1e-4c53-9a8e-5f0c3d7b1a01', 'kvm-b': 'b7d2e1ef-3c2f-4d64-8b9f-6a1d4e8c2b02' } as const;
const MiB = 1024 * 1024;

const location = libvirtTestbedLocation();

describe('libvirt testbed', () => {
  it.runIf(location.required)('is described where VMLEDGER_TEST_LIBVIRT says', () => {
    expect(location.present, `VMLEDGER_TEST_LIBVIRT=${location.path} names no file: start the testbed (tests/testbed/libvirt.sh start)`).toBe(true);
  });
});

interface Testbed {
  readonly description: LibvirtTestbed;
  readonly templateId: string;
  readonly drivers: { readonly a: LibvirtDriver; readonly b: LibvirtDriver };
  /** Resolves once the guest of domain `name` on host `hostName` is ready; fails after a bound. */
  readonly awaitReady: (hostName: string, name: string) => Promise<void>;
  readonly guestCommand: (hostName: string, command: readonly string[], name: string) => Promise<void>;
  readonly spec: (name: string) => DomainSpec;
  readonly dispose: () => Promise<void>;
}

/** Opens drivers for both hosts and puts the guest image on both as template `templateId`. */
async function openTestbed(): Promise<Testbed> {
  const description = readLibvirtTestbed(location.path);
  const hostA = testbedHost(description, 'kvm-a');
  const hostB = testbedHost(description, 'kvm-b');
  const templateId = `vmlc-guest-${randomUUID().slice(0, 8)}`;
  const templates = [hostA, hostB].map((host) => `${host.storagePath}/templates/${templateId}.qcow2`);
  for (const [i, host] of [hostA, hostB].entries()) {
    await mkdir(`${host.storagePath}/templates`, { recursive: true });
    await copyFile(description.guest.image, templates[i]!);
  }
  const peers = (hostId: string) => {
    const host = hostId === HOST_IDS['kvm-a'] ? hostA : hostId === HOST_IDS['kvm-b'] ? hostB : undefined;
    return host && { migrationUri: host.migrationUri, migrationAddress: host.migrationAddress };
  };
  const a = new LibvirtDriver({ config: testbedHostConfig(hostA, HOST_IDS['kvm-a'], undefined, [hostB]), peers, powerStatePollIntervalMs: 2_000 });
  const b = new LibvirtDriver({ config: testbedHostConfig(hostB, HOST_IDS['kvm-b'], undefined, [hostA]), peers, powerStatePollIntervalMs: 2_000 });
  const readyWithinMs = Math.max(60_000, description.guest.bootSeconds * 10_000);

  const awaitReady = async (hostName: string, name: string): Promise<void> => {
    const deadline = Date.now() + readyWithinMs;
    for (;;) {
      const check = await runInTestbedHost(description, hostName, description.guest.readyCheck, name);
      if (check.exitCode === 0) return;
      if (Date.now() > deadline) throw new Error(`the guest of ${name} on ${hostName} was not ready within ${readyWithinMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const guestCommand = async (hostName: string, command: readonly string[], name: string): Promise<void> => {
    const result = await runInTestbedHost(description, hostName, command, name);
    if (result.exitCode !== 0) throw new Error(`${command.join(' ')} for ${name} on ${hostName} failed: ${result.stderr}`);
  };
  const spec = (name: string): DomainSpec => ({
    instanceId: randomUUID(),
    instanceName: name,
    cpuNumber: 1,
    cpuSpeed: 500,
    memory: description.guest.memoryMiB,
    nics: [
      {
        nicId: randomUUID(),
        networkId: randomUUID(),
        mac: `02:${[...randomBytes(5)].map((byte) => byte.toString(16).padStart(2, '0')).join(':')}`,
        ip: null,
        vlan: null,
        deviceId: 0,
      },
    ],
    volumes: [
      { volumeId: randomUUID(), type: 'ROOT', size: description.guest.virtualSizeBytes, templateId },
      { volumeId: randomUUID(), type: 'DATADISK', size: 16 * MiB, templateId: null },
    ],
  });
  return {
    description,
    templateId,
    drivers: { a, b },
    awaitReady,
    guestCommand,
    spec,
    dispose: async () => {
      await Promise.all([a.close(), b.close()]);
      await Promise.all(templates.map((path) => rm(path, { force: true })));
    },
  };
}

describe.skipIf(!location.present)('libvirt driver over SSH (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  describeHypervisorConformance('libvirt over SSH', async () => {
    const testbed = await openTestbed();
    const { guest } = testbed.description;
    return {
      driver: testbed.drivers.a,
      targetDriver: testbed.drivers.b,
      awaitGuestReady: (name) => testbed.awaitReady('kvm-a', name),
      // The hooks wait for the guest themselves too: a key pressed before it listens would be lost.
      powerOffFromInside: async (name) => {
        await testbed.awaitReady('kvm-a', name);
        await testbed.guestCommand('kvm-a', guest.powerOffFromInside, name);
      },
      ignoreShutdown: async (name) => {
        await testbed.awaitReady('kvm-a', name);
        await testbed.guestCommand('kvm-a', guest.ignoreShutdown, name);
        // The key press reaches the guest's acpid asynchronously.
        await new Promise((resolve) => setTimeout(resolve, 500));
      },
      domainSpec: testbed.spec,
      powerStateChangeWithinMs: 20_000,
      migratesSnapshots: false,
      dispose: testbed.dispose,
    };
  });

  // What the libvirt driver adds to the port's promises, or how it maps them onto a host.
  describe('libvirt driver specifics', () => {
    let testbed: Testbed;
    let driver: LibvirtDriver;
    const created: DomainSpec[] = [];
    const newSpec = (): DomainSpec => {
      const spec = testbed.spec(`vmlc-${randomUUID().slice(0, 8)}`);
      created.push(spec);
      return spec;
    };
    const inA = (command: readonly string[]) => runInTestbedHost(testbed.description, 'kvm-a', command);
    const virshA = (...args: string[]) => inA(['virsh', '-c', 'qemu:///system', ...args]);

    beforeAll(async () => {
      testbed = await openTestbed();
      driver = testbed.drivers.a;
    });
    afterEach(async () => {
      for (const spec of created.splice(0)) {
        await testbed.drivers.a.destroyDomain(spec, spec.volumes);
        await testbed.drivers.b.destroyDomain(spec, spec.volumes);
      }
    });
    afterAll(async () => {
      await testbed?.dispose();
    });

    it('reports the resources virsh nodeinfo shows', async () => {
      const nodeinfo = (await virshA('nodeinfo')).stdout;
      const info = await driver.hostInfo();
      expect(nodeinfo).toContain(`CPU(s):              ${info.cpuNumber}`);
      expect(nodeinfo).toContain(`CPU frequency:       ${info.cpuSpeed} MHz`);
    });

    it('defines the domain as the spec says: overlay root disk on the template, CPU weight, vmledger metadata', async () => {
      const spec = newSpec();
      expect(await driver.startDomain(spec)).toBe('running');
      const host = testbedHost(testbed.description, 'kvm-a');
      const root = `${host.storagePath}/${spec.volumes[0]!.volumeId}.qcow2`;
      const info = JSON.parse((await inA(['qemu-img', 'info', '-U', '--output=json', root])).stdout) as Record<string, unknown>;
      expect(info['backing-filename']).toBe(`${host.storagePath}/templates/${testbed.templateId}.qcow2`);
      expect(info['virtual-size']).toBe(spec.volumes[0]!.size);
      const xml = (await virshA('dumpxml', '--inactive', spec.instanceName)).stdout;
      expect(xml).toContain(`<uuid>${spec.instanceId}</uuid>`);
      expect(xml).toMatch(/<vcpu placement='static' current='1'>\d+<\/vcpu>/);
      expect(xml).toContain('urn:vmledger:libvirt:domain:1');
      expect(xml).toContain(`<mac address='${spec.nics[0]!.mac}'/>`);
    });

    it('refuses a root disk whose template the host does not have, naming the path', async () => {
      const spec = newSpec();
      const missing = { ...spec, volumes: [{ ...spec.volumes[0]!, templateId: 'no-such-template' }, spec.volumes[1]!] };
      const error = await expectDriverError(driver.startDomain(missing), 'NOT_FOUND');
      expect(error.message).toContain(`${testbedHost(testbed.description, 'kvm-a').storagePath}/templates/no-such-template.qcow2`);
      expect(await driver.describeDomain(spec.instanceName)).toBeNull();
    });

    it('refuses a domain bigger than the host with INSUFFICIENT_CAPACITY', async () => {
      const info = await driver.hostInfo();
      const spec = newSpec();
      const error = await expectDriverError(driver.startDomain({ ...spec, cpuNumber: info.cpuNumber + 1 }), 'INSUFFICIENT_CAPACITY');
      expect(error.detail).toContain(`${info.cpuNumber} cores`);
      expect(await driver.describeDomain(spec.instanceName)).toBeNull();
    });

    it('keeps libvirt’s stderr when a command fails', async () => {
      const spec = newSpec();
      await driver.startDomain(spec);
      // A target whose libvirtd does not answer: the migration fails on the source, which says why.
      const broken = new LibvirtDriver({
        config: testbedHostConfig(testbedHost(testbed.description, 'kvm-a'), HOST_IDS['kvm-a']),
        peers: () => ({ migrationUri: 'qemu+tcp://127.0.0.1:1/system', migrationAddress: '127.0.0.1' }),
      });
      try {
        const error = await expectDriverError(broken.migrateDomain(spec, 'nowhere-host'), 'REMOTE_COMMAND_FAILED');
        expect(error.message).toMatch(/migrating domain vmlc-\w+ to nowhere-host failed on libvirt host/);
        expect(error.detail).toMatch(/error: .*127\.0\.0\.1/i);
      } finally {
        await broken.close();
      }
      expect((await driver.describeDomain(spec.instanceName))?.powerState).toBe('running');
    });

    it('scales a running domain only within what it was started with, and a stopped one beyond', async () => {
      const spec = newSpec();
      await driver.startDomain(spec);
      const tooMuch = spec.memory * 8;
      const error = await expectDriverError(driver.scaleDomain(spec, 1, spec.cpuSpeed, tooMuch), 'INSUFFICIENT_CAPACITY');
      expect(error.detail).toMatch(/stop it to scale beyond that/);
      expect((await driver.describeDomain(spec.instanceName))?.memory).toBe(spec.memory);
      await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
      expect(await driver.scaleDomain(spec, 1, 800, tooMuch)).toBe('stopped');
      expect(await driver.describeDomain(spec.instanceName)).toMatchObject({ memory: tooMuch, cpuSpeed: 800 });
      // The new CPU weight is in the definition (the testbed's libvirtd runs without cgroups, so
      // `virsh schedinfo` cannot show it applied).
      expect((await virshA('dumpxml', '--inactive', spec.instanceName)).stdout).toMatch(/<shares>800<\/shares>/);
      expect(await driver.scaleDomain(spec, 1, 800, spec.memory)).toBe('stopped');
      expect(await driver.startDomain(spec)).toBe('running');
      expect((await driver.describeDomain(spec.instanceName))?.memory).toBe(spec.memory);
    });

    it('starts different domains concurrently', async () => {
      const specs = [newSpec(), newSpec()];
      expect(await Promise.all(specs.map((spec) => driver.startDomain(spec)))).toEqual(['running', 'running']);
      const listed = await driver.listDomains();
      for (const spec of specs) expect(listed).toContainEqual({ instanceName: spec.instanceName, powerState: 'running' });
    });

    it('still hears out-of-band changes after its SSH connection dropped', async () => {
      const host = testbedHost(testbed.description, 'kvm-a');
      const config = testbedHostConfig(host, HOST_IDS['kvm-a']);
      const connection = new SshConnection({
        host: config.address,
        port: config.sshPort,
        username: config.username,
        privateKeyPath: config.privateKeyPath!,
        hostKeySha256: config.hostKeySha256,
      });
      const watching = new LibvirtDriver({ config, connection, peers: () => undefined, powerStatePollIntervalMs: 2_000 });
      const spec = newSpec();
      const heard: PowerStateChange[] = [];
      const unsubscribe = watching.onPowerStateChange((change) => heard.push(change));
      try {
        await watching.startDomain(spec);
        // The session's sshd process ends: the connection drops under the event stream.
        await expect(connection.exec(['sh', '-c', 'kill -9 $PPID'])).rejects.toThrow(/dropped/);
        await testbed.awaitReady('kvm-a', spec.instanceName);
        await testbed.guestCommand('kvm-a', testbed.description.guest.powerOffFromInside, spec.instanceName);
        await eventually(() => heard.some((change) => change.instanceName === spec.instanceName), 20_000, 'the power-off');
        expect(heard.filter((change) => change.instanceName === spec.instanceName)).toEqual([
          { instanceName: spec.instanceName, powerState: 'stopped' },
        ]);
      } finally {
        unsubscribe();
        await watching.close();
        await connection.close();
      }
    });

    // The agent's trust boundary on a real host: whatever a command names, the driver acts only on
    // domains vmledger defined for that instance and on disk files directly in its storage paths.
    describe('what is not the instance\'s', () => {
      const hostA = () => testbedHost(testbed.description, 'kvm-a');
      const exists = async (path: string): Promise<boolean> => (await inA(['test', '-e', path])).exitCode === 0;
      const leftovers: Array<() => Promise<unknown>> = [];
      afterEach(async () => {
        for (const clean of leftovers.splice(0).reverse()) await clean();
      });

      /** A domain someone else defined on the host (no vmledger record), with a disk in the storage path. */
      const foreignDomain = async (): Promise<{ name: string; volumeId: string; disk: string }> => {
        const name = `foreign-${randomUUID().slice(0, 8)}`;
        const volumeId = randomUUID();
        const disk = `${hostA().storagePath}/${volumeId}.qcow2`;
        expect((await inA(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '16M'])).exitCode).toBe(0);
        leftovers.push(() => inA(['rm', '-f', disk]));
        const xml = `${hostA().storagePath}/${name}.xml`;
        await writeFile(
          xml,
          `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
            `<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><disk type='file' device='disk'>` +
            `<driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`,
        );
        leftovers.push(() => rm(xml, { force: true }));
        expect((await virshA('define', xml)).exitCode).toBe(0);
        leftovers.push(() => virshA('undefine', name));
        return { name, volumeId, disk };
      };

      it('refuses a forged destroy of a domain vmledger did not define: the domain and its disk survive', async () => {
        const foreign = await foreignDomain();
        const volumes = [{ volumeId: foreign.volumeId, type: 'ROOT' as const, size: 16 * MiB, templateId: null }];
        const error = await expectDriverError(driver.destroyDomain({ instanceId: randomUUID(), instanceName: foreign.name }, volumes), 'NOT_OWNED');
        expect(error.message).toContain(`domain ${foreign.name} on libvirt host ${HOST_IDS['kvm-a']} was not defined by vmledger`);
        expect((await virshA('domstate', foreign.name)).stdout.trim()).toBe('shut off');
        expect(await exists(foreign.disk)).toBe(true);
        // Nor can a stop, reboot or scale reach it.
        await expectDriverError(driver.stopDomain({ instanceId: randomUUID(), instanceName: foreign.name }, { forced: true, timeoutMs: 0 }), 'NOT_OWNED');
        await expectDriverError(driver.scaleDomain({ instanceId: randomUUID(), instanceName: foreign.name }, 1, 100, 64), 'NOT_OWNED');
      });

      it("refuses a start that would attach another domain's disk, and defines nothing", async () => {
        const foreign = await foreignDomain();
        const spec = newSpec();
        const stealing: DomainSpec = { ...spec, volumes: [{ volumeId: foreign.volumeId, type: 'ROOT', size: 16 * MiB, templateId: null }] };
        const error = await expectDriverError(driver.startDomain(stealing), 'NOT_OWNED');
        expect(error.detail).toBe(`${foreign.disk} belongs to domain ${foreign.name}`);
        expect(await driver.describeDomain(spec.instanceName)).toBeNull();
        expect(await exists(foreign.disk)).toBe(true);
      });

      it('refuses to destroy a vmledger domain whose disk lies outside the storage paths: the file survives', async () => {
        // A definition made to point the volume's disk at a file elsewhere (here: beside the storage
        // path, by '..'), of the volume's own file name.
        const spec = newSpec();
        const volume = { volumeId: randomUUID(), type: 'ROOT' as const, size: 16 * MiB, templateId: null };
        const outside = `${hostA().storagePath}/../${volume.volumeId}.qcow2`;
        expect((await inA(['qemu-img', 'create', '-q', '-f', 'qcow2', outside, '16M'])).exitCode).toBe(0);
        leftovers.push(() => inA(['rm', '-f', outside]));
        const owned: DomainSpec = { ...spec, volumes: [volume] };
        const config = testbedHostConfig(hostA(), HOST_IDS['kvm-a']);
        const xmlFile = `${hostA().storagePath}/${spec.instanceName}.xml`;
        await writeFile(xmlFile, buildDomainXml(owned, config, await driver.hostInfo(), { diskPaths: new Map([[volume.volumeId, outside]]) }));
        leftovers.push(() => rm(xmlFile, { force: true }));
        expect((await virshA('define', xmlFile)).exitCode).toBe(0);
        leftovers.push(() => virshA('undefine', spec.instanceName));
        const error = await expectDriverError(driver.destroyDomain(owned, owned.volumes), 'NOT_OWNED');
        expect(error.message).toContain(`the disk of volume ${volume.volumeId} on libvirt host ${HOST_IDS['kvm-a']} is outside its storage paths`);
        expect(await exists(outside)).toBe(true);
        expect((await virshA('domstate', spec.instanceName)).stdout.trim()).toBe('shut off');
      });

      it('never lets a name read as a virsh option: "--help" is a domain the host does not know', async () => {
        const named = { instanceId: randomUUID(), instanceName: '--help' };
        // Read as an option, `virsh domstate --help` prints its usage and succeeds, and the driver
        // would fail reading it; as a name, it is a domain that is not there.
        expect(await driver.stopDomain(named, { forced: true, timeoutMs: 0 })).toBe('missing');
        expect(await driver.describeDomain('--help')).toBeNull();
        await expectDriverError(driver.rebootDomain(named, { forced: true }), 'NOT_FOUND');
        await expectDriverError(driver.scaleDomain({ ...named, instanceName: '--all' }, 1, 100, 64), 'NOT_FOUND');
      });

      it('removes a root disk a restore or a volatile reset replaced when the domain starts on its new root', async () => {
        const spec = newSpec();
        await driver.startDomain(spec);
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        const oldRoot = `${hostA().storagePath}/${spec.volumes[0]!.volumeId}.qcow2`;
        expect(await exists(oldRoot)).toBe(true);
        const newRoot = { ...spec.volumes[0]!, volumeId: randomUUID() };
        const restored: DomainSpec = { ...spec, volumes: [newRoot, spec.volumes[1]!] };
        created.push(restored);
        expect(await driver.startDomain(restored)).toBe('running');
        // The orchestrator deleted the old root's volume: its disk does not outlive it on the host.
        expect(await exists(oldRoot)).toBe(false);
        await driver.stopDomain(restored, { forced: true, timeoutMs: 0 });
        expect(await driver.startDomain(restored)).toBe('running');
        await driver.destroyDomain(restored, restored.volumes);
        expect(await exists(`${hostA().storagePath}/${newRoot.volumeId}.qcow2`)).toBe(false);
      });

      it('removes a replaced root disk the domain still attaches (a restore without a start since) with the domain', async () => {
        const spec = newSpec();
        await driver.startDomain(spec);
        await driver.stopDomain(spec, { forced: true, timeoutMs: 0 });
        const oldRoot = `${hostA().storagePath}/${spec.volumes[0]!.volumeId}.qcow2`;
        const newRoot = { ...spec.volumes[0]!, volumeId: randomUUID() };
        created.push(spec);
        // The expunge names the instance's volumes of now: the new root, never started here.
        await driver.destroyDomain(spec, [newRoot, spec.volumes[1]!]);
        expect(await exists(oldRoot)).toBe(false);
        expect(await exists(`${hostA().storagePath}/${spec.volumes[1]!.volumeId}.qcow2`)).toBe(false);
      });
    });

    it('restarts a migrated domain on the target with the disks it has, and destroys them there', async () => {
      const spec = newSpec();
      const b = testbed.drivers.b;
      await driver.startDomain(spec);
      await driver.migrateDomain(spec, HOST_IDS['kvm-b']);
      // The disks stay on the source's mount of the shared storage; a restart on the target must
      // neither create new ones under its own storage path nor lose the domain's data.
      expect(await b.stopDomain(spec, { forced: true, timeoutMs: 0 })).toBe('stopped');
      expect(await b.startDomain(spec)).toBe('running');
      const hostA = testbedHost(testbed.description, 'kvm-a');
      const hostB = testbedHost(testbed.description, 'kvm-b');
      const xml = (await runInTestbedHost(testbed.description, 'kvm-b', ['virsh', '-c', 'qemu:///system', 'dumpxml', spec.instanceName])).stdout;
      for (const volume of spec.volumes) expect(xml).toContain(`${hostA.storagePath}/${volume.volumeId}.qcow2`);
      const onB = await runInTestbedHost(testbed.description, 'kvm-b', ['ls', `${hostB.storagePath}/${spec.volumes[0]!.volumeId}.qcow2`]);
      expect(onB.exitCode).not.toBe(0);
      await b.destroyDomain(spec, spec.volumes);
      const left = await inA(['ls', `${hostA.storagePath}/${spec.volumes[0]!.volumeId}.qcow2`]);
      expect(left.exitCode).not.toBe(0);
      expect(await b.describeDomain(spec.instanceName)).toBeNull();
    });
  });
});

// A connection check that needs no domain: the driver logs in with a password as well.
describe.skipIf(!location.present)('libvirt driver login (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  it('works with password login and a connection it is given', async () => {
    const host = testbedHost(readLibvirtTestbed(location.path), 'kvm-b');
    const config = testbedHostConfig(host, HOST_IDS['kvm-b'], { password: true });
    const connection = new SshConnection({
      host: config.address,
      port: config.sshPort,
      username: config.username,
      password: config.password!,
      hostKeySha256: config.hostKeySha256,
    });
    const driver = new LibvirtDriver({ config, connection, peers: () => undefined });
    try {
      expect((await driver.hostInfo()).cpuNumber).toBeGreaterThan(0);
      await driver.close();
      // The connection was the caller's: the driver left it open.
      expect((await connection.exec(['true'])).exitCode).toBe(0);
    } finally {
      await connection.close();
    }
  });
});
