// One libvirt testbed host (kvm-a) driven by a LibvirtDriver, with blank-disk domains of the test's
// own: enough for VM snapshots, which need no guest OS (reference/kvm-agent-notes.md §1.2). Shared by
// tests/integration/libvirt/snapshots.test.ts and the snapshot benchmark.
import { tinyDomainSpec } from '../../adapters/hypervisor/conformance.js';
import { LibvirtDriver } from '../../adapters/hypervisor/libvirt/libvirt-driver.js';
import type { DomainSpec } from '../../adapters/hypervisor/protocol.js';
import { readLibvirtTestbed, runInTestbedHost, testbedHost, testbedHostConfig, type InHostResult, type LibvirtTestbed, type TestbedHost } from './libvirt-testbed.js';

export const SNAPSHOT_BED_HOST = 'kvm-a';
const HOST_ID = 'a6c1f0de-2b1e-4c53-9a8e-5f0c3d7b1a01';

export interface SnapshotBed {
  readonly description: LibvirtTestbed;
  readonly host: TestbedHost;
  readonly driver: LibvirtDriver;
  /** A spec for a domain of this test, as vmledger names instances; destroyed by `dispose`. */
  newSpec(): DomainSpec;
  /** The disk file of a volume of `spec` on the host. */
  diskPath(spec: DomainSpec, index?: number): string;
  /** Runs a command inside the host, as root; fails on a non-zero exit. */
  inHost(command: readonly string[]): Promise<InHostResult>;
  dispose(): Promise<void>;
}

export function openSnapshotBed(file: string): SnapshotBed {
  const description = readLibvirtTestbed(file);
  const host = testbedHost(description, SNAPSHOT_BED_HOST);
  const driver = new LibvirtDriver({ config: testbedHostConfig(host, HOST_ID), peers: () => undefined, powerStatePollIntervalMs: 60_000 });
  const created: DomainSpec[] = [];
  return {
    description,
    host,
    driver,
    newSpec() {
      const spec = tinyDomainSpec();
      created.push(spec);
      return spec;
    },
    diskPath: (spec, index = 0) => `${host.storagePath}/${spec.volumes[index]!.volumeId}.qcow2`,
    async inHost(command) {
      const result = await runInTestbedHost(description, host.name, command);
      if (result.exitCode !== 0) throw new Error(`${command.join(' ')} on ${host.name} exited ${result.exitCode}: ${result.stderr}`);
      return result;
    },
    async dispose() {
      for (const spec of created) await driver.destroyDomain(spec, spec.volumes).catch(() => undefined);
      await driver.close();
    },
  };
}

/** A fresh snapshot name of the domain, as the orchestrator makes them (distinct within the second). */
export function snapshotNameOf(spec: DomainSpec, n: number): string {
  return `${spec.instanceName}_VS_2026010100${String(Math.floor(n / 60) % 60).padStart(2, '0')}${String(n % 60).padStart(2, '0')}`;
}
