// VMware → KVM on the libvirt testbed, the host side (issue 17): the testbed's VMware host (an sshd at
// 127.0.0.5 over a /vmfs/volumes tree holding a real debootstrapped guest) is listed by the agent of
// kvm-a over SSH (password, and the agent's own key), and the real guest is converted on kvm-a by a
// `vmledger agent` process on RabbitMQ (signed commands, as the orchestrator sends them) and imported
// into kvm-a's storage. The agent is killed mid-conversion on the way: virt-v2v goes with it, and the
// command redelivered to the restarted agent converts from scratch. kvm-b is configured with a virt-v2v
// that is not there, and refuses. One conversion and a part: 6.5 min on this shared 2-core machine.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBus } from '../../adapters/bus/amqp-bus.js';
import type { Consumer } from '../../adapters/bus/port.js';
import { formatCommandKeyRing, newCommandKey, signCommand, type CommandKeyRing } from '../../adapters/hypervisor/command-signing.js';
import { parseAgentProgress, parseAgentReply } from '../../adapters/hypervisor/parse-reports.js';
import { ORCHESTRATOR_REPLIES, agentQueue, toBusMessage, type AgentCommand, type AgentReply } from '../../adapters/hypervisor/protocol.js';
import { AgentQueryClient } from '../../adapters/hypervisor/query-client.js';
import { sealSecret } from '../../adapters/hypervisor/sealed-secret.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';
import type { AgentProgress } from '../../domain/agent-protocol/index.js';
import { testbedHost, testbedHostConfig } from '../testbed/libvirt-testbed.js';
import { onHost, readTestbed, scratchDir, startAgentProcess, startBroker, stopBroker, testbedFile, until, type Process, type Testbed } from './libvirt/world.js';

const BROKER_PORT = 5679;
const file = testbedFile();
const HOST_A = 'a6c1f0de-2b1e-4c53-9a8e-5f0c3d7b1a11';
const HOST_B = 'b7d2e1ef-3c2f-4d64-8b9f-6a1d4e8c2b12';
const INSTANCE = '4f2d8a61-93c7-4e0b-a5d2-6c1b7e9f3a08';
const ACCOUNT = '0b6e1c3a-5d7f-4a29-8c1e-2f3a4b5c6d7e';
const INSTANCE_NAME = `i-${ACCOUNT}-${INSTANCE}-VM`;
const CONVERSION_TIMEOUT_MS = 30 * 60_000;

describe.skipIf(file === undefined)('a VMware host converted to KVM (needs the libvirt testbed: tests/testbed/libvirt.sh start; see README)', () => {
  let testbed: Testbed;
  let busUrl: string;
  let ownBroker = false;
  let scratch: ReturnType<typeof scratchDir>;
  let bus: AmqpBus;
  let keys: CommandKeyRing;
  let configFile: string;
  let agent: Process | undefined;
  let replyConsumer: Consumer;
  let queries: AgentQueryClient;
  const secrets = new MemorySecretStore();
  const replies: AgentReply[] = [];
  const progress: AgentProgress[] = [];
  /** Replies and progress of every command, in the order they arrived. */
  const arrivals: string[] = [];

  const vmware = () => testbed.vmware!;

  beforeAll(async () => {
    testbed = readTestbed(file!);
    if (!testbed.vmware) throw new Error(`${file} describes no VMware host: restart the testbed (tests/testbed/libvirt.sh start)`);
    scratch = scratchDir();
    busUrl = process.env['VMLEDGER_TEST_AMQP_URL'] ?? '';
    if (busUrl === '') {
      busUrl = await startBroker(BROKER_PORT);
      ownBroker = true;
    }
    keys = { current: newCommandKey() };
    const keysFile = join(scratch.dir, 'command-keys.json');
    writeFileSync(keysFile, formatCommandKeyRing(keys), { mode: 0o600 });
    const a = testbedHost(testbed, 'kvm-a');
    const b = testbedHost(testbed, 'kvm-b');
    const hosts = [
      { ...testbedHostConfig(a, HOST_A, { privateKey: true }, testbed.hosts), conversion: { virtV2v: 'virt-v2v', env: vmware().conversionEnv } },
      // A host "without virt-v2v": configured with one that is not there.
      { ...testbedHostConfig(b, HOST_B, { privateKey: true }, testbed.hosts), conversion: { virtV2v: '/nonexistent/virt-v2v', env: vmware().conversionEnv } },
    ];
    configFile = join(scratch.dir, 'agent.json');
    writeFileSync(configFile, JSON.stringify({ busUrl, heartbeatIntervalMs: 60_000, powerSyncIntervalMs: 60_000, commandKeysFile: keysFile, hosts, peers: [] }, null, 2), { mode: 0o600 });
    bus = await AmqpBus.connect(busUrl);
    await bus.declareQueue(ORCHESTRATOR_REPLIES);
    // Whatever an earlier run left on the replies queue is not ours.
    replyConsumer = await bus.consume(ORCHESTRATOR_REPLIES, async (delivery) => {
      if (delivery.message.type === 'AgentProgress') {
        const parsed = parseAgentProgress(delivery.message);
        if (parsed.ok) {
          progress.push(parsed.value);
          arrivals.push(`progress:${parsed.value.commandId}`);
        }
      } else {
        const parsed = parseAgentReply(delivery.message);
        if (parsed.ok) {
          replies.push(parsed.value);
          arrivals.push(`reply:${parsed.value.commandId}`);
        }
      }
      await delivery.ack();
    });
    queries = await AgentQueryClient.start({ bus, commandKeys: keys, clock: () => new Date(), newId: randomUUID, secrets });
    agent = await startAgentProcess(configFile);
  }, 300_000);

  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await queries?.stop();
    await replyConsumer?.cancel();
    await bus?.close();
    if (ownBroker) await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  const source = () => ({ kind: 'esxi-ssh' as const, host: vmware().address, port: vmware().sshPort, username: vmware().username });

  async function send(command: AgentCommand): Promise<void> {
    const issued = new Date();
    // Valid for an hour: a command redelivered to a restarted agent must still be accepted.
    await bus.publish(agentQueue(command.hostId), signCommand(toBusMessage(command.commandId, command), keys, issued, new Date(issued.getTime() + 3_600_000)));
  }

  const replyTo = (commandId: string, timeoutMs: number) => until(`the reply to ${commandId}`, async () => replies.find((reply) => reply.commandId === commandId), timeoutMs);

  function conversion(hostId: string, vmxPath: string, outputName = randomUUID()): Extract<AgentCommand, { type: 'ConvertVmwareGuest' }> {
    const commandId = `${randomUUID()}.0`;
    return {
      type: 'ConvertVmwareGuest',
      commandId,
      hostId,
      instanceId: INSTANCE,
      instanceName: INSTANCE_NAME,
      source: { ...source(), vmxPath },
      passwordRef: null,
      password: sealSecret(vmware().password, keys, commandId),
      tempPath: vmware().tempPath,
      outputName,
      timeoutMs: CONVERSION_TIMEOUT_MS,
      extraParams: [],
    };
  }

  const conversionFiles = (outputName: string) => readdirSync(vmware().tempPath).filter((name) => name.startsWith(outputName));

  it('given the VMware host, when the agent lists it with the operator\'s password, then every guest is there as its .vmx says', async () => {
    const ref = await secrets.put(vmware().password);
    const guests = await queries.listVmwareGuests(HOST_A, source(), ref, 60_000);
    expect(guests.map((guest) => [guest.name, guest.powerState, guest.vmxPath])).toEqual([
      ['multi', 'PowerOff', vmware().guests.multi],
      ['running', 'PowerOn', vmware().guests.running],
      ['v2vtest', 'PowerOff', vmware().guests.real],
    ]);
    const multi = guests.find((guest) => guest.name === 'multi')!;
    expect(multi.disks.map((disk) => [disk.diskId, disk.capacity, disk.controller, disk.datastoreName])).toEqual([
      ['0', 64 * 1024 * 1024, 'scsi', 'datastore1'],
      ['1', 32 * 1024 * 1024, 'sata', 'datastore1'],
    ]);
    expect(multi.nics.map((nic) => [nic.macAddress, nic.adapterType, nic.networkName])).toEqual([
      [vmware().macs.multi[0], 'vmxnet3', 'VM Network'],
      [vmware().macs.multi[1], 'e1000e', 'VM Network'],
    ]);
    const real = guests.find((guest) => guest.name === 'v2vtest')!;
    expect(real).toMatchObject({ cpuNumber: 1, memory: 512, osDisplayName: 'debian10-64' });
    expect(real.nics[0]?.macAddress).toBe(vmware().macs.real);
  }, 120_000);

  it('given no password, when the agent lists the VMware host, then it logs in with its own key', async () => {
    const guests = await queries.listVmwareGuests(HOST_A, source(), null, 60_000);
    expect(guests.map((guest) => guest.name)).toEqual(['multi', 'running', 'v2vtest']);
  }, 120_000);

  it('given a host configured without virt-v2v, when it is asked to convert, then it refuses at once with the pre-check message', async () => {
    const command = conversion(HOST_B, vmware().guests.real);
    await send(command);
    const reply = await replyTo(command.commandId, 60_000);
    expect(reply.outcome).toBe('failed');
    expect(reply.error?.message).toBe(
      `Cannot convert the instance from VMware as the virt-v2v binary is not found on host ${HOST_B}. Please install virt-v2v, nbdkit on the host before attempting the instance conversion.`,
    );
    expect(conversionFiles(command.outputName)).toEqual([]);
  }, 120_000);

  it('given a guest with its lock, when it is converted, then it is refused as running and nothing is written', async () => {
    const command = conversion(HOST_A, vmware().guests.running);
    await send(command);
    const reply = await replyTo(command.commandId, 120_000);
    expect(reply.error?.message).toBe('VM running might be on standalone host and is Running, cannot be imported. Please shut it down before attempting the import');
    expect(conversionFiles(command.outputName)).toEqual([]);
  }, 180_000);

  it('given the real guest, when the agent is killed mid-conversion and comes back, then virt-v2v went with it, the redelivered command converts, progress rises to 100 before the reply, and the import leaves qcow2 volumes and nothing else', async () => {
    const command = conversion(HOST_A, vmware().guests.real);
    await send(command);
    // Killed while virt-v2v converts the guest (its longest step: the initrd rebuild).
    const converting = (p: AgentProgress) => p.commandId === command.commandId && p.stage === 'convert' && p.step.startsWith('Converting ');
    await until('virt-v2v to convert the guest', async () => (progress.some(converting) ? true : undefined), 600_000);
    await agent!.kill('SIGKILL');
    expect(progress.filter((p) => p.commandId === command.commandId).every((p) => p.percent < 100)).toBe(true);
    // [v]: the pattern does not match the command lines that carry it (libvirt.sh exec, nsenter).
    const v2vRuns = async () => (await onHost('kvm-a', ['pgrep', '-f', `[v]irt-v2v .*-on ${command.outputName}`])).stdout.trim();
    await until('virt-v2v to end with its agent', async () => ((await v2vRuns()) === '' ? true : undefined), 60_000);
    // What the killed agent sent before it died has arrived by now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const beforeRestart = progress.filter((p) => p.commandId === command.commandId).length;
    agent = await startAgentProcess(configFile);

    const reply = await replyTo(command.commandId, CONVERSION_TIMEOUT_MS);
    expect(reply.outcome, JSON.stringify(reply.error)).toBe('succeeded');
    const converted = reply.converted!;
    expect(converted.bootMode).toBe('BIOS');
    expect(converted.disks).toHaveLength(1);
    expect(converted.disks[0]).toMatchObject({ position: 0, format: 'qcow2', bus: 'virtio', path: join(vmware().tempPath, `${command.outputName}-sda`) });
    // The rerun's progress: numbered from 1 again, rising from the export to 100, all before the reply.
    const rerun = progress.filter((p) => p.commandId === command.commandId).slice(beforeRestart);
    const seen = `progress ${JSON.stringify(progress.filter((p) => p.commandId === command.commandId).map((p) => [p.seq, p.percent, p.step]))} (${beforeRestart} before the restart); agent: ${agent!.output().slice(-2000)}`;
    expect(rerun[0], seen).toMatchObject({ seq: 1, stage: 'export', percent: 0 });
    expect(rerun.map((p) => p.percent)).toEqual([...rerun.map((p) => p.percent)].sort((x, y) => x - y));
    expect(rerun[rerun.length - 1]).toMatchObject({ stage: 'convert', percent: 100 });
    expect(rerun.map((p) => p.step)).toEqual(expect.arrayContaining(['Opening the source', 'Inspecting the source', 'Copying disk 1/1']));
    const mine = arrivals.filter((entry) => entry.endsWith(command.commandId));
    expect(mine[mine.length - 1]).toBe(`reply:${command.commandId}`);
    // The export is gone; the converted disk and its XML wait for the import.
    expect(conversionFiles(command.outputName).sort()).toEqual([`${command.outputName}-sda`, `${command.outputName}.xml`]);

    const volumeId = randomUUID();
    const imported: AgentCommand = {
      type: 'ImportConvertedDisks',
      commandId: `${randomUUID()}.1`,
      hostId: HOST_A,
      instanceId: INSTANCE,
      instanceName: INSTANCE_NAME,
      tempPath: vmware().tempPath,
      outputName: command.outputName,
      disks: [{ volumeId, sourcePath: converted.disks[0]!.path, toPath: null }],
    };
    await send(imported);
    const done = await replyTo(imported.commandId, 300_000);
    expect(done.outcome, JSON.stringify(done.error)).toBe('succeeded');
    const storage = testbedHost(testbed, 'kvm-a').storagePath;
    expect(done.volumes).toEqual([{ volumeId, path: join(storage, `${volumeId}.qcow2`), virtualSize: converted.disks[0]!.virtualSize, format: 'qcow2' }]);
    const info = JSON.parse((await onHost('kvm-a', ['qemu-img', 'info', '--output=json', join(storage, `${volumeId}.qcow2`)])).stdout) as Record<string, unknown>;
    expect(info['format']).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    expect(conversionFiles(command.outputName)).toEqual([]);
    expect(existsSync(join(vmware().tempPath, `${command.outputName}.export`))).toBe(false);
    await onHost('kvm-a', ['rm', '-f', join(storage, `${volumeId}.qcow2`)]);
  }, 40 * 60_000);
});
