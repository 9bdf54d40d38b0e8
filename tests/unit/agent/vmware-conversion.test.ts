// VMware → KVM through the agent on the in-memory bus, with simulated hosts (issue 17): the sealed
// password opens only for its command, progress arrives before the reply and only rises, a host
// without the capability refuses, a running guest is refused, and the import leaves no converted
// disk behind.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { sealSecret } from '../../../adapters/hypervisor/sealed-secret.js';
import type { AgentCommand } from '../../../adapters/hypervisor/protocol.js';
import { DEFAULT_SIMULATOR_CAPABILITIES, simulatedVmxPath } from '../../../adapters/hypervisor/simulator/index.js';
import { H1, HOST, KEYS, domain, newCommandId, startHarness, target, type Harness } from './harness.js';

const PASSWORD = 'esxi-pw-5d1c0b9a';
const ESXI = { kind: 'esxi-ssh', host: '10.9.0.8', port: 22, username: 'root' } as const;
const WEB = { name: 'web01', running: false, cpuNumber: 2, memory: 2048, guestOs: 'debian10-64', disks: [{ capacity: 8 << 30 }, { capacity: 1 << 30 }], nics: [{ mac: '00:50:56:aa:bb:cc', model: 'vmxnet3', bridge: 'VM Network' }] };
const DB = { name: 'db01', running: true, cpuNumber: 4, memory: 8192, disks: [{ capacity: 16 << 30 }], nics: [] };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setUp(capable = true): Promise<Harness> {
  harness = await startHarness({ h1: { capabilities: capable ? [...DEFAULT_SIMULATOR_CAPABILITIES, 'instance.conversion'] : DEFAULT_SIMULATOR_CAPABILITIES, conversionDelayMs: 30 } });
  harness.cloud.addVmwareHost(ESXI.host, { username: 'root', password: PASSWORD, guests: [WEB, DB] });
  return harness;
}

function convert(guest: { name: string }, output = randomUUID()): Extract<AgentCommand, { type: 'ConvertVmwareGuest' }> {
  const commandId = newCommandId();
  return {
    type: 'ConvertVmwareGuest',
    commandId,
    hostId: H1,
    ...target(domain()),
    source: { ...ESXI, vmxPath: simulatedVmxPath(guest) },
    passwordRef: null,
    password: sealSecret(PASSWORD, KEYS, commandId),
    tempPath: '/mnt/conversion',
    outputName: output,
    timeoutMs: 60_000,
    extraParams: [],
  };
}

describe('ConvertVmwareGuest and ImportConvertedDisks through the agent', () => {
  it('given a stopped guest, when it is converted and imported, then progress rises to 100 before each reply, and the volumes take the converted disks', async () => {
    const h = await setUp();
    const command = convert(WEB);
    await h.send(command);
    const reply = await h.replyTo(command.commandId);
    expect(reply.body).toMatchObject({ outcome: 'succeeded', powerState: 'missing' });
    expect(reply.body.converted?.disks.map((disk) => [disk.position, disk.path, disk.virtualSize, disk.format])).toEqual([
      [0, `/mnt/conversion/${command.outputName}-sda`, 8 << 30, 'qcow2'],
      [1, `/mnt/conversion/${command.outputName}-sdb`, 1 << 30, 'qcow2'],
    ]);
    const progress = h.progress.filter((p) => p.body.commandId === command.commandId).map((p) => p.body);
    expect(progress.map((p) => p.seq)).toEqual(progress.map((_, i) => i + 1));
    expect(progress[0]).toMatchObject({ stage: 'export', percent: 0 });
    expect(progress[progress.length - 1]).toMatchObject({ stage: 'convert', percent: 100 });
    expect(progress.map((p) => p.percent)).toEqual([...progress.map((p) => p.percent)].sort((a, b) => a - b));
    // On the same queue, the reply came after the last progress message.
    const published = h.bus.log.filter((entry) => entry.startsWith('reply:'));
    expect(published[published.length - 1]).toBe(`reply:${reply.id}`);
    expect(published.filter((entry) => entry.startsWith('reply:progress-'))).toHaveLength(progress.length);
    expect(JSON.stringify(h.errors)).toBe('[]');

    const [root, data] = [randomUUID(), randomUUID()];
    const imported: AgentCommand = {
      type: 'ImportConvertedDisks',
      commandId: newCommandId(),
      hostId: H1,
      ...target(domain()),
      tempPath: '/mnt/conversion',
      outputName: command.outputName,
      disks: reply.body.converted!.disks.map((disk, i) => ({ volumeId: i === 0 ? root : data, sourcePath: disk.path, toPath: null })),
    };
    await h.send(imported);
    const done = await h.replyTo(imported.commandId);
    expect(done.body.volumes?.map((v) => [v.volumeId, v.virtualSize, v.format])).toEqual([
      [root, 8 << 30, 'qcow2'],
      [data, 1 << 30, 'qcow2'],
    ]);
    expect(h.cloud.diskSize(root)).toBe(8 << 30);
    expect(h.cloud.convertedDiskPaths()).toEqual([]);

    // Redelivered, the import finds its volumes in place and succeeds again.
    await h.send({ ...imported, commandId: newCommandId() });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.replies.filter((r) => r.body.command === 'ImportConvertedDisks').map((r) => r.body.outcome)).toEqual(['succeeded', 'succeeded']);
  });

  it('given a running guest, when it is converted, then it is refused with CloudStack\'s message and nothing is converted', async () => {
    const h = await setUp();
    const command = convert(DB);
    await h.send(command);
    const reply = await h.replyTo(command.commandId);
    expect(reply.body).toMatchObject({ outcome: 'failed', error: { message: 'VM db01 might be on standalone host and is Running, cannot be imported. Please shut it down before attempting the import' } });
    expect(h.cloud.convertedDiskPaths()).toEqual([]);
  });

  it('given a host without virt-v2v, when it is asked to convert, then it refuses with the pre-check message', async () => {
    const h = await setUp(false);
    const command = convert(WEB);
    await h.send(command);
    const reply = await h.replyTo(command.commandId);
    expect(reply.body.error?.message).toBe(
      `Cannot convert the instance from VMware as the virt-v2v binary is not found on host ${H1}. Please install virt-v2v, nbdkit on the host before attempting the instance conversion.`,
    );
    expect((await h.h1.hostInfo()).capabilities).not.toContain('instance.conversion');
  });

  it('given a password sealed for another command, when the agent opens it, then the conversion fails without logging in', async () => {
    const h = await setUp();
    const command = { ...convert(WEB), password: sealSecret(PASSWORD, KEYS, newCommandId()) };
    await h.send(command);
    const reply = await h.replyTo(command.commandId);
    expect(reply.body.outcome).toBe('failed');
    expect(JSON.stringify(reply.body)).not.toContain(PASSWORD);
  });
});

describe('CopyRemoteVolumes progress (issue 16\'s open item)', () => {
  it('given an external host\'s two disks, when they are copied, then the agent reports each disk\'s start and 100 before the reply', async () => {
    const h = await setUp();
    h.cloud.addExternalHost('10.9.0.7', { username: 'ops', password: PASSWORD, domains: [{ name: 'old', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: 1 << 30, path: '/srv/old-0.qcow2' }, { capacity: 1 << 29, path: '/srv/old-1.raw' }], nics: [] }] });
    const commandId = newCommandId();
    const copy: AgentCommand = {
      type: 'CopyRemoteVolumes',
      commandId,
      hostId: H1,
      ...target(domain()),
      remote: { host: '10.9.0.7', port: 22, username: 'ops' },
      passwordRef: null,
      password: sealSecret(PASSWORD, KEYS, commandId),
      tmpPath: '/tmp',
      copyTimeoutMs: 60_000,
      volumes: [
        { volumeId: randomUUID(), sourcePath: '/srv/old-0.qcow2', sourceFormat: 'qcow2' },
        { volumeId: randomUUID(), sourcePath: '/srv/old-1.raw', sourceFormat: 'raw' },
      ],
    };
    await h.send(copy);
    expect((await h.replyTo(commandId)).body.outcome).toBe('succeeded');
    expect(h.progress.filter((p) => p.body.commandId === commandId).map((p) => [p.body.stage, p.body.step, p.body.percent])).toEqual([
      ['copy', 'Copying disk 1/2', 0],
      ['copy', 'Copying disk 2/2', 50],
      ['copy', 'Copied', 100],
    ]);
  });
});

describe('simulated VMware listing', () => {
  it('lists the guests by name with their .vmx, the running one PowerOn; a wrong password is refused', async () => {
    const h = await setUp();
    const guests = await h.h1.listVmwareGuests(ESXI, PASSWORD);
    expect(guests.map((g) => [g.name, g.powerState, g.vmxPath, g.disks.length, g.nics[0]?.adapterType ?? null])).toEqual([
      ['db01', 'PowerOn', '/vmfs/volumes/datastore1/db01/db01.vmx', 1, null],
      ['web01', 'PowerOff', '/vmfs/volumes/datastore1/web01/web01.vmx', 2, 'vmxnet3'],
    ]);
    await expect(h.h1.listVmwareGuests(ESXI, 'wrong')).rejects.toThrow(/Unable to connect to VMware host 10.9.0.8.*authentication/);
    expect(HOST.cpuNumber).toBeGreaterThan(0);
  });
});
