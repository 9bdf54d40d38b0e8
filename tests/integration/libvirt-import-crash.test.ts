// Crashes during an external import (issue 16 item 8), on the libvirt testbed with real processes: the
// main job and kvm-a's agent on RabbitMQ, the external host's sshd. The external host gets a domain of
// its own, ext-crash (a small qcow2 root and a 512 MiB raw data disk of random bytes, so its copy takes
// seconds), and the import is cut while the data disk is being copied:
//   - kvm-a's agent SIGKILLed and kept down: the job fails at its timeout (the copy timeout set to its
//     least, 1 min, and the agent timeout to 15 s) saying why, and nothing is left: no partial copy on
//     kvm-a, no converted file on the source, no process still copying, no instance, volume,
//     reservation or secret. The hosts clean up after the dead agent themselves (leash.ts).
//   - kvm-a's agent SIGKILLed and started again before the timeout: the command comes again (RabbitMQ
//     redelivers what the dead agent never acked, still within its signature's validity), is carried
//     out from the start, and the import completes, with byte-identical disks.
//   - the main job SIGKILLed mid-copy and started again on its data directory: it takes the job over
//     and the import completes exactly once (one instance, one VM.IMPORT, its usage once), its
//     password deleted.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS_FILE_NAME } from '../../adapters/secrets/file-secret-store.js';
import {
  createCloud,
  hostCapacity,
  onHost,
  readTestbed,
  scratchDir,
  seedTemplates,
  startAgentProcess,
  startBroker,
  startMainJob,
  stopBroker,
  testbedFile,
  until,
  usageOf,
  writeAgentConfigs,
  type Cloud,
  type Job,
  type MainJob,
  type Process,
  type Testbed,
} from './libvirt/world.js';

const run = promisify(execFile);
const BROKER_PORT = 5679;
const file = testbedFile();
const DOMAIN = 'ext-crash';
const DATA_MIB = 512;

const IMPORT = `mutation($zoneId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $host: String, $username: String, $password: String,
  $tmpPath: String, $nicNetworkList: [NicNetworkInput!], $dataDiskOfferingList: [DataDiskOfferingInput!]) {
  importVm(zoneId: $zoneId, importSource: EXTERNAL, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, host: $host,
    username: $username, password: $password, tmpPath: $tmpPath, nicNetworkList: $nicNetworkList, dataDiskOfferingList: $dataDiskOfferingList) { id } }`;

describe.skipIf(file === undefined)('an external import cut by a crash (needs the libvirt testbed)', () => {
  let testbed: Testbed;
  let busUrl: string;
  let scratch: ReturnType<typeof scratchDir>;
  let dataDir: string;
  let main: MainJob;
  let cloud: Cloud;
  let configs: Map<string, string>;
  let dataOffering: string;
  const agents = new Map<string, Process>();
  const mains: MainJob[] = [];

  const external = () => testbed.external!;
  const kvmA = () => testbed.hosts.find((host) => host.name === 'kvm-a')!;
  const sourceDir = () => join(external().storagePath, 'crash');
  const tmpPath = () => join(sourceDir(), 'tmp');

  beforeAll(async () => {
    testbed = readTestbed(file!);
    if (!testbed.external) throw new Error(`${file} describes no external host: restart the testbed (tests/testbed/libvirt.sh start)`);
    scratch = scratchDir();
    dataDir = join(scratch.dir, 'data');
    busUrl = await startBroker(BROKER_PORT);
    main = await startMainJob(dataDir, busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '15000' });
    mains.push(main);
    cloud = await createCloud(main.client, testbed);
    await seedTemplates(testbed, cloud);
    // The least copy timeout there is (minutes, as CloudStack's): the job waits 1 min per disk, and 15 s.
    await main.client.request(`mutation { updateConfiguration(name: "remote.kvm.instance.disks.copy.timeout", value: "1") { name } }`);
    dataOffering = (await main.client.request<{ createDiskOffering: { id: string } }>(`mutation { createDiskOffering(name: "crash-data", diskSize: 1) { id } }`)).createDiskOffering.id;
    configs = writeAgentConfigs(testbed, cloud, busUrl, scratch.dir, dataDir);
    for (const host of testbed.hosts) agents.set(host.name, await startAgentProcess(configs.get(host.name)!));
    await until('the hosts to be Up', async () => {
      const { hosts } = await main.client.request<{ hosts: { nodes: Array<{ status: string }> } }>(`{ hosts(first: 10) { nodes { status } } }`);
      return hosts.nodes.every((host) => host.status === 'Up') ? true : undefined;
    });

    // ext-crash on the external host, its files vmhost's, as the testbed's own domains are.
    const dir = sourceDir();
    const made = await onHost(external().name, [
      'sh',
      '-c',
      `set -e; mkdir -p "$1/tmp"; qemu-img convert -q -O qcow2 "$2" "$1/root.qcow2"; head -c ${DATA_MIB}M /dev/urandom > "$1/data.raw"; chown -R vmhost:vmhost "$1"
       cat > "$1/dom.xml" <<EOF
<domain type='qemu'><name>${DOMAIN}</name><memory unit='MiB'>${testbed.guest.memoryMiB}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$1/root.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$1/data.raw'/><target dev='vdb' bus='virtio'/></disk>
    <interface type='user'><mac address='52:54:00:e0:0c:01'/><model type='virtio'/></interface>
  </devices></domain>
EOF
       virsh -q -c qemu:///system define "$1/dom.xml" >/dev/null`,
      'sh',
      dir,
      testbed.guest.image,
    ]);
    if (made.code !== 0) throw new Error(`making ${DOMAIN} on the external host failed: ${made.stderr}`);
    secretsBefore = secrets();
  }, 300_000);

  afterAll(async () => {
    for (const agent of agents.values()) await agent.kill('SIGKILL');
    for (const each of mains) await each.kill('SIGKILL');
    if (testbed?.external) {
      await onHost(external().name, ['virsh', '-c', 'qemu:///system', 'undefine', DOMAIN]).catch(() => undefined);
      await onHost(external().name, ['rm', '-rf', sourceDir()]).catch(() => undefined);
    }
    await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  /** kvm-a's agent (again), its copies `mode`. */
  const startAgentOfA = async (mode: 'streamed' | 'cloudstack'): Promise<void> => {
    const path = configs.get('kvm-a')!;
    const config = JSON.parse(readFileSync(path, 'utf8')) as { hosts: Array<Record<string, unknown>> };
    config.hosts[0]!['remoteCopyMode'] = mode;
    writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
    await agents.get('kvm-a')?.kill('SIGTERM');
    agents.set('kvm-a', await startAgentProcess(path));
  };

  const startImport = async (): Promise<string> =>
    (
      await main.client.request<{ importVm: { id: string } }>(IMPORT, {
        zoneId: cloud.zoneId,
        name: DOMAIN,
        serviceOfferingId: cloud.offeringId,
        templateId: cloud.guestTemplateId,
        host: `${external().address}:${external().sshPort}`,
        username: external().username,
        password: external().password,
        tmpPath: tmpPath(),
        nicNetworkList: [{ nic: '0', network: cloud.networkId }],
        dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }],
      })
    ).importVm.id;

  const jobOf = async (id: string): Promise<Job> =>
    (await main.client.request<{ asyncJob: Job }>(`query($id: ID!) { asyncJob(id: $id) { id status instanceId error { code message } } }`, { id })).asyncJob;
  const ended = (id: string, timeoutMs: number): Promise<Job> => until(`job ${id} to end`, async () => ((await jobOf(id)).status === 'PENDING' ? undefined : jobOf(id)), timeoutMs);

  const partials = () => readdirSync(kvmA().storagePath).filter((name) => name.includes('.part-'));
  const converted = () => readdirSync(tmpPath()).filter((name) => name.startsWith('vmledger-import-'));
  /** Processes still at work on a partial copy or a converted file (every host's processes are this machine's). */
  const stillCopying = () =>
    readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        } catch {
          return '';
        }
      })
      .filter((line) => (line.includes(`${kvmA().storagePath}/`) && line.includes('.part-')) || line.includes('vmledger-import-'));

  /** The data disk's copy under way (a partial copy on kvm-a bigger than the root disk), and in CloudStack's mode its converted file on the source. */
  const midCopy = (mode: 'streamed' | 'cloudstack') =>
    until(
      'the data disk to be copying',
      async () => {
        const big = partials().some((name) => {
          try {
            return statSync(join(kvmA().storagePath, name)).size > 32 * 1024 * 1024;
          } catch {
            return false;
          }
        });
        return big && (mode === 'streamed' || converted().length === 1) ? true : undefined;
      },
      60_000,
    );
  /** What kvm-a's storage holds: any file an import leaves shows here. */
  const storageOfA = () => readdirSync(kvmA().storagePath).sort();

  const allocated = async (): Promise<number[]> =>
    (await main.client.request<{ storagePools: { nodes: Array<{ allocatedBytes: number }> } }>(`{ storagePools(first: 10) { nodes { allocatedBytes } } }`)).storagePools.nodes.map((pool) => pool.allocatedBytes);
  const instances = async (): Promise<Array<{ id: string; name: string; state: string }>> =>
    (await main.client.request<{ virtualMachines: { nodes: Array<{ id: string; name: string; state: string }> } }>(`{ virtualMachines(first: 100) { nodes { id name state } } }`))
      .virtualMachines.nodes;
  /** The secrets port's references: the hosts' logins and the command keys, and an import's password while it runs. */
  const secrets = (): string[] => Object.keys((JSON.parse(readFileSync(join(dataDir, SECRETS_FILE_NAME), 'utf8')) as { secrets: Record<string, string> }).secrets).sort();
  let secretsBefore: string[] = [];
  const identical = async (copy: string, source: string, format: string): Promise<boolean> =>
    (await run('qemu-img', ['compare', '-q', '-f', 'qcow2', '-F', format, copy, source]).then(() => 0, (error: { code?: number }) => error.code ?? 1)) === 0;

  /** The imported instance's disks are its source's, and it is gone again (so the name can be imported anew). */
  const checkImportedAndRemove = async (instanceId: string): Promise<void> => {
    const { virtualMachine } = await main.client.request<{ virtualMachine: { state: string; volumes: Array<{ id: string; type: string }> } }>(
      `query($id: ID!) { virtualMachine(id: $id) { state volumes { id type } } }`,
      { id: instanceId },
    );
    expect(virtualMachine.state).toBe('Stopped');
    const [root, data] = virtualMachine.volumes;
    expect(await identical(join(kvmA().storagePath, `${root!.id}.qcow2`), join(sourceDir(), 'root.qcow2'), 'qcow2')).toBe(true);
    expect(await identical(join(kvmA().storagePath, `${data!.id}.qcow2`), join(sourceDir(), 'data.raw'), 'raw')).toBe(true);
    expect(partials()).toEqual([]);
    expect(converted()).toEqual([]);
    expect(secrets()).toEqual(secretsBefore);
    const { destroyVirtualMachine } = await main.client.request<{ destroyVirtualMachine: { id: string } }>(`mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, {
      id: instanceId,
    });
    expect((await ended(destroyVirtualMachine.id, 60_000)).error).toBeNull();
  };

  for (const mode of ['streamed', 'cloudstack'] as const) {
    it(`given kvm-a's agent killed mid-copy (${mode}) and kept down, then the job fails at its timeout saying why, and nothing of the import is left on either host or in vmledger`, async () => {
      await startAgentOfA(mode);
      // Data disks outlive their destroyed instances (as in CloudStack): earlier tests' still hold their space.
      const poolBefore = await allocated();
      const filesBefore = storageOfA();
      const jobId = await startImport();
      await midCopy(mode);
      await agents.get('kvm-a')!.kill('SIGKILL');

      // 1 min for the one disk... per disk, and the agent timeout: 2 min 15 s at most, and slack.
      const job = await ended(jobId, 200_000);
      expect(job.status).toBe('FAILED');
      expect(job.error?.code).toBe('INTERNAL_ERROR');
      expect(job.error?.message).toMatch(
        new RegExp(`^Failed to import volumes while importing vm: ${DOMAIN}\\. Host \\S+ did not answer the copy of the disks within 1 min per disk \\(remote\\.kvm\\.instance\\.disks\\.copy\\.timeout\\) and 15 s: its agent may be down$`),
      );
      expect(partials()).toEqual([]);
      expect(storageOfA()).toEqual(filesBefore);
      expect(converted()).toEqual([]);
      expect(stillCopying()).toEqual([]);
      expect((await instances()).map((vm) => vm.name)).not.toContain(DOMAIN);
      const { virtualMachine } = await main.client.request<{ virtualMachine: { state: string; volumes: Array<{ state: string }> } | null }>(
        `query($id: ID!) { virtualMachine(id: $id) { state volumes { state } } }`,
        { id: job.instanceId },
      );
      expect(virtualMachine === null || (virtualMachine.state === 'Expunged' && virtualMachine.volumes.every((volume) => volume.state === 'Expunged')), JSON.stringify(virtualMachine)).toBe(true);
      const capacity = await hostCapacity(main.client, cloud.hostIds.get('kvm-a')!);
      expect([capacity.reservationCount, capacity.cpuAllocated, capacity.memoryAllocated]).toEqual([0, 0, 0]);
      expect(await allocated()).toEqual(poolBefore);
      expect(secrets()).toEqual(secretsBefore);
      expect(await onHost('kvm-a', ['virsh', '-c', 'qemu:///system', 'domstate', DOMAIN]).then((result) => result.code)).not.toBe(0);
    }, 300_000);

    it(`given kvm-a's agent killed mid-copy (${mode}) and started again before the timeout, then the copy is carried out again and the import completes`, async () => {
      await startAgentOfA(mode);
      const jobId = await startImport();
      await midCopy(mode);
      await agents.get('kvm-a')!.kill('SIGKILL');
      await startAgentOfA(mode);

      const job = await ended(jobId, 200_000);
      expect(job.error).toBeNull();
      expect(job.status).toBe('SUCCEEDED');
      await checkImportedAndRemove(job.instanceId!);
    }, 300_000);
  }

  it('given the main job killed mid-copy and started again on its data directory, then the import completes exactly once', async () => {
    await startAgentOfA('streamed');
    const jobId = await startImport();
    await midCopy('streamed');
    await main.kill('SIGKILL');
    main = await startMainJob(dataDir, busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '15000' });
    mains.push(main);

    const job = await ended(jobId, 200_000);
    expect(job.error).toBeNull();
    const imported = (await instances()).filter((vm) => vm.name === DOMAIN);
    expect(imported.map((vm) => [vm.id, vm.state])).toEqual([[job.instanceId, 'Stopped']]);
    const { events } = await main.client.request<{ events: { nodes: Array<{ type: string; description: string }> } }>(
      `query($id: ID!) { events(resourceId: $id, first: 100) { nodes { type description } } }`,
      { id: job.instanceId },
    );
    expect(events.nodes.filter((event) => event.type === 'VM.IMPORT' && /^Imported/.test(event.description))).toHaveLength(1);
    const usage = await usageOf(main.client, job.instanceId!);
    expect(usage.filter((type) => type === 'VM.CREATE')).toHaveLength(1);
    expect(usage).toEqual([...new Set(usage)]);
    await checkImportedAndRemove(job.instanceId!);
  }, 300_000);
});
