// Issue 5's figure on real hypervisors: the time from `startVirtualMachine` to `Running` for an instance
// on a libvirt/QEMU host of the testbed, through the main job, RabbitMQ and a `vmledger agent` process
// (median of 10 starts, each followed by a forced stop). Uses the running testbed when there is one
// (VMLEDGER_TEST_LIBVIRT or its default place), else starts tests/testbed/libvirt.sh for the run.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  DEPLOY,
  createCloud,
  job,
  readTestbed,
  scratchDir,
  seedTemplates,
  startAgentProcess,
  startBroker,
  startMainJob,
  stopBroker,
  testbedFile,
  until,
  vm,
  writeAgentConfigs,
} from '../integration/libvirt/world.js';
import { openSnapshotBed, snapshotNameOf } from '../testbed/snapshot-bed.js';
import { spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';

const STARTS = 10;
const BROKER_PORT = 5677;

export async function libvirtFigures({ report }: SuiteContext): Promise<void> {
  const script = join(import.meta.dirname, '..', 'testbed', 'libvirt.sh');
  let file = testbedFile();
  const ownTestbed = file === undefined;
  if (ownTestbed) file = execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  const scratch = scratchDir();
  const busUrl = await startBroker(BROKER_PORT);
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const testbed = readTestbed(file!);
    const main = await startMainJob(join(scratch.dir, 'data'), busUrl);
    stops.push(() => main.kill());
    const cloud = await createCloud(main.client, testbed);
    await seedTemplates(testbed, cloud);
    const configs = writeAgentConfigs(testbed, cloud, busUrl, scratch.dir, join(scratch.dir, 'data'));
    for (const config of configs.values()) {
      const agent = await startAgentProcess(config);
      stops.push(() => agent.kill());
    }
    // Every start on the same host, named on the start: a deployment's placement is for its own first start only.
    const hostId = cloud.hostIds.get(testbed.hosts[0]!.name)!;
    const deployed = await job(main.client, DEPLOY, {
      zoneId: cloud.zoneId,
      serviceOfferingId: cloud.offeringId,
      templateId: cloud.guestTemplateId,
      networkIds: [cloud.networkId],
      name: 'bench-start',
      startVm: false,
    });
    const id = deployed.instanceId!;
    const took: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = performance.now();
      await main.client.request(`mutation($id: ID!, $hostId: ID) { startVirtualMachine(id: $id, hostId: $hostId) { id } }`, { id, hostId });
      await until('Running', async () => ((await vm(main.client, id))?.state === 'Running' ? true : undefined), 120_000);
      took.push(performance.now() - started);
      const stopped = await job(main.client, `mutation($id: ID!) { stopVirtualMachine(id: $id, forced: true) { id } }`, { id });
      if (stopped.status !== 'SUCCEEDED') throw new Error(`the forced stop failed: ${stopped.error?.message}`);
    }
    report(spreadFigure(`libvirt testbed: startVirtualMachine → Running, median of ${STARTS}`, 'ms', took));
    await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch.remove();
    if (ownTestbed) execFileSync('bash', [script, 'stop'], { stdio: 'inherit' });
  }
}

const SNAPSHOT_ROUNDS = 5;

/**
 * Issue 14's figure: a snapshot with memory of a running testbed domain taken and deleted through the
 * libvirt driver over SSH, as an agent carries out CreateDomainSnapshot then DeleteDomainSnapshot
 * (median of 5, ms; a blank-disk domain of the guest's memory size under TCG). `--only libvirt-snapshots`
 * runs it alone; it needs the libvirt testbed only, not the broker or the main job.
 */
export async function libvirtSnapshotFigures({ report }: SuiteContext): Promise<void> {
  const script = join(import.meta.dirname, '..', 'testbed', 'libvirt.sh');
  let file = testbedFile();
  const ownTestbed = file === undefined;
  if (ownTestbed) file = execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  const bed = openSnapshotBed(file!);
  try {
    const spec = { ...bed.newSpec(), memory: bed.description.guest.memoryMiB };
    await bed.driver.startDomain(spec);
    const took: number[] = [];
    for (let i = 0; i < SNAPSHOT_ROUNDS; i++) {
      const name = snapshotNameOf(spec, i);
      const started = performance.now();
      await bed.driver.createDomainSnapshot(spec, name, { kind: 'DiskAndMemory', quiesce: false, description: null });
      await bed.driver.deleteDomainSnapshot(spec, name);
      took.push(performance.now() - started);
    }
    report(spreadFigure(`libvirt testbed: memory snapshot create + delete (${spec.memory} MiB guest), median of ${SNAPSHOT_ROUNDS}`, 'ms', took));
    await bed.driver.destroyDomain(spec, spec.volumes);
  } finally {
    await bed.dispose();
    if (ownTestbed) execFileSync('bash', [script, 'stop'], { stdio: 'inherit' });
  }
}
