import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../adapters/bus/port.js';
import { MAX_NICS, MAX_SNAPSHOT_DESCRIPTION, MAX_TIMEOUT_MS, MAX_VOLUMES, parseAgentCommand } from '../../../adapters/hypervisor/parse-command.js';
import { toBusMessage, type AgentCommand } from '../../../adapters/hypervisor/protocol.js';
import { vmSnapshotName } from '../../../domain/shared/instance-name.js';

const ACCOUNT = '0b6e1c3a-5d7f-4a29-8c1e-2f3a4b5c6d7e';
const VM = '4f2d8a61-93c7-4e0b-a5d2-6c1b7e9f3a08';
const OTHER_VM = '9a1c5e7b-2d4f-4b6a-8c0e-1f3a5b7d9e2c';
const NAME = `i-${ACCOUNT}-${VM}-VM`;
const HOST = '6b0f3c1e-3f43-4a55-9d0e-1c2b3a4d5e6f';
const volume = { volumeId: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d', type: 'ROOT', size: 2_147_483_648, templateId: '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9' } as const;
const data = { ...volume, volumeId: 'b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e', type: 'DATADISK', templateId: null } as const;
const nic = { nicId: 'c2d3e4f5-a6b7-4c8d-8e9f-1a2b3c4d5e6f', networkId: 'd3e4f5a6-b7c8-4d9e-9f0a-2b3c4d5e6f7a', mac: '02:00:00:00:00:01', ip: '10.1.0.5', vlan: 200, deviceId: 0 } as const;
const base = { commandId: `${VM}.0`, hostId: HOST };
const target = { instanceId: VM, instanceName: NAME };
const SNAPSHOT = `${NAME}_VS_20261121080000`;
const OUTPUT = 'e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b';
const snapshot = { ...base, ...target, snapshotName: SNAPSHOT };

const valid: AgentCommand[] = [
  {
    ...base,
    type: 'StartDomain',
    domain: { instanceId: VM, instanceName: NAME, cpuNumber: 2, cpuSpeed: 1000, memory: 1024, nics: [nic], volumes: [volume] },
  },
  { ...base, ...target, type: 'StopDomain', forced: false, timeoutMs: 600_000 },
  { ...base, ...target, type: 'RebootDomain', forced: true },
  { ...base, ...target, type: 'MigrateDomain', targetHostId: '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f' },
  { ...base, ...target, commandId: `expunge-${VM}.0`, type: 'DestroyDomain', volumes: [volume, data] },
  // An import's disks, on the host before any domain of the instance: copied there, or taken in place.
  { ...base, ...target, commandId: `expunge-${VM}.1`, type: 'DestroyDomain', volumes: [{ ...volume, imported: true }, { ...data, path: '/var/lib/vmledger/local/data.qcow2', imported: true }] },
  { ...base, ...target, type: 'ScaleDomain', cpuNumber: 4, cpuSpeed: 2000, memory: 4096 },
  { ...snapshot, type: 'CreateDomainSnapshot', kind: 'DiskAndMemory', quiesce: false, description: 'before the upgrade' },
  { ...snapshot, type: 'RevertDomainSnapshot', kind: 'Disk' },
  { ...snapshot, type: 'DeleteDomainSnapshot' },
  { ...base, ...target, type: 'CopyVolumes', volumes: [{ ...volume, fromPath: '/var/lib/vmledger/images', toPath: '/mnt/second' }] },
  // An import keeps the domain's own name (the driver then acts on it only when its vmledger record names the instance).
  {
    ...base,
    instanceId: VM,
    instanceName: 'prod-db.01',
    type: 'ManageDomain',
    domain: { instanceId: VM, instanceName: 'prod-db.01', cpuNumber: 2, cpuSpeed: 1000, memory: 1024, nics: [nic], volumes: [volume, data] },
    diskPositions: [1, 0],
  },
  {
    ...base,
    ...target,
    type: 'UnmanageDomain',
    domain: { instanceId: VM, instanceName: NAME, cpuNumber: 2, cpuSpeed: 1000, memory: 1024, nics: [nic], volumes: [volume] },
  },
  // On the bus a password is sealed; the log's reference never travels.
  {
    ...base,
    instanceId: VM,
    instanceName: 'legacy-db',
    type: 'CopyRemoteVolumes',
    remote: { host: '10.9.0.7', port: 2222, username: 'ops' },
    passwordRef: null,
    password: { keyId: 'k20261207-0a1b2c3d', box: 'c2VhbGVkLWJveA' },
    tmpPath: '/var/tmp',
    copyTimeoutMs: 1_800_000,
    volumes: [{ volumeId: volume.volumeId, sourcePath: '/srv/vm/legacy-db.qcow2', sourceFormat: 'qcow2' }, { volumeId: data.volumeId, sourcePath: '/srv/vm/data.raw', sourceFormat: 'raw' }],
  },
  {
    ...base,
    ...target,
    type: 'ConvertVmwareGuest',
    source: { kind: 'esxi-ssh', host: '10.9.0.8', port: 22, username: 'root', vmxPath: '/vmfs/volumes/datastore1/web 01/web 01.vmx' },
    passwordRef: null,
    password: { keyId: 'k20261207-0a1b2c3d', box: 'c2VhbGVkLWJveA' },
    tempPath: '/mnt/nfs-temp',
    outputName: OUTPUT,
    timeoutMs: 10_800_000,
    extraParams: ['--mac', '00:50:56:aa:bb:cc:network:default', '-v'],
  },
  {
    ...base,
    ...target,
    type: 'ImportConvertedDisks',
    tempPath: '/mnt/nfs-temp',
    outputName: OUTPUT,
    disks: [
      { volumeId: volume.volumeId, sourcePath: `/mnt/nfs-temp/${OUTPUT}-sda`, toPath: null },
      { volumeId: data.volumeId, sourcePath: `/mnt/nfs-temp/${OUTPUT}-sdb`, toPath: '/mnt/primary' },
    ],
  },
];

/** What the bus hands over: a parsed copy of the JSON, not the sender's object. */
const overTheWire = (message: BusMessage): BusMessage => JSON.parse(JSON.stringify(message)) as BusMessage;
const reasonFor = (body: Record<string, unknown>): string => {
  const result = parseAgentCommand({ id: 'm-1', type: String(body['type']), body: body as unknown as BusMessage['body'] });
  return result.ok ? 'accepted' : result.reason;
};

describe('parseAgentCommand', () => {
  it('refuses a ConvertVmwareGuest whose source or extra parameters could reach past the conversion', () => {
    const convert = valid.find((command) => command.type === 'ConvertVmwareGuest')!;
    const body = JSON.parse(JSON.stringify(convert)) as Record<string, unknown> & { source: Record<string, unknown> };
    expect(reasonFor(body)).toBe('accepted');
    expect(reasonFor({ ...body, source: { ...body.source, kind: 'vcenter' } })).toMatch(/source.kind/);
    expect(reasonFor({ ...body, source: { ...body.source, vmxPath: '/vmfs/volumes/ds/../../etc/x.vmx' } })).toMatch(/must not contain \.\./);
    expect(reasonFor({ ...body, source: { ...body.source, vmxPath: '/vmfs/volumes/ds/vm/vm.vmdk' } })).toMatch(/source.vmxPath must be an absolute .vmx path/);
    expect(reasonFor({ ...body, extraParams: ['-o', 'libvirt'] })).toMatch(/extraParams\[0\] -o is set by the agent itself/);
    expect(reasonFor({ ...body, extraParams: ['--os=/etc'] })).toMatch(/is set by the agent itself/);
    expect(reasonFor({ ...body, extraParams: ['$(reboot)'] })).toMatch(/extraParams\[0\] must be a virt-v2v option or value/);
    expect(reasonFor({ ...body, outputName: '../x' })).toMatch(/outputName/);
  });

  it('refuses an ImportConvertedDisks naming a file that is not a converted disk of its output in its temporary location, and reads one with no disks (the clean-up)', () => {
    const imported = valid.find((command) => command.type === 'ImportConvertedDisks')!;
    const body = JSON.parse(JSON.stringify(imported)) as Record<string, unknown>;
    const disk = (sourcePath: string) => ({ ...body, disks: [{ volumeId: volume.volumeId, sourcePath, toPath: null }] });
    expect(reasonFor(disk(`/mnt/nfs-temp/${OUTPUT}-sda`))).toBe('accepted');
    expect(reasonFor(disk('/var/lib/vmledger/images/other.qcow2'))).toMatch(/disks\[0\].sourcePath must be a converted disk/);
    expect(reasonFor(disk(`/mnt/nfs-temp/${OUTPUT}-x/../../etc/passwd`))).toMatch(/disks\[0\].sourcePath must be a converted disk/);
    // No disks: the workflow's clean-up of the temporary location.
    expect(reasonFor({ ...body, disks: [] })).toBe('accepted');
  });

  it('reads a CopyRemoteVolumes without the password reference a sender put in, and refuses a source path with .. or a shell word', () => {
    const copy = valid.find((command) => command.type === 'CopyRemoteVolumes')!;
    const parsed = parseAgentCommand(overTheWire(toBusMessage('m-1', { ...copy, passwordRef: 'leaked-ref' } as AgentCommand)));
    expect(parsed.ok && parsed.command.type === 'CopyRemoteVolumes' && parsed.command.passwordRef).toBe(null);
    const body = JSON.parse(JSON.stringify(copy)) as Record<string, unknown>;
    expect(reasonFor({ ...body, volumes: [{ volumeId: volume.volumeId, sourcePath: '/srv/../etc/shadow', sourceFormat: 'raw' }] })).toMatch(/must not contain \.\./);
    expect(reasonFor({ ...body, volumes: [{ volumeId: volume.volumeId, sourcePath: '/srv/a', sourceFormat: 'raw;rm' }] })).toMatch(/sourceFormat must be a disk format/);
    expect(reasonFor({ ...body, remote: { host: 'a b', port: 22, username: 'ops' } })).toMatch(/remote\.host must be a host name/);
  });

  it('refuses a volume whose imported flag is not a boolean, and reads imported: false as not imported', () => {
    const destroy = { ...base, ...target, type: 'DestroyDomain' };
    expect(reasonFor({ ...destroy, volumes: [{ ...volume, imported: 'yes' }] })).toMatch(/volumes\[0\]\.imported must be a boolean/);
    const parsed = parseAgentCommand({ id: 'm-1', type: 'DestroyDomain', body: { ...destroy, volumes: [{ ...volume, imported: false }] } as unknown as BusMessage['body'] });
    expect(parsed.ok && parsed.command.type === 'DestroyDomain' && parsed.command.volumes).toEqual([volume]);
  });

  it.each(valid.map((command) => [command.type, command] as const))('accepts a well-formed %s', (_type, command) => {
    expect(parseAgentCommand(overTheWire(toBusMessage('m-1', command)))).toEqual({ ok: true, command });
  });

  // Whose domain it is the driver checks against the domain's vmledger record (agent.test.ts,
  // "commands of another instance"): an instance imported from a domain vmledger once made for another
  // instance keeps that name.
  it('accepts vmledger\'s name of another instance, as an imported instance keeps it', () => {
    expect(reasonFor({ ...base, ...target, type: 'DestroyDomain', instanceName: `i-${ACCOUNT}-${OTHER_VM}-VM`, volumes: [] })).toBe('accepted');
  });

  it.each([
    ['the instance.name setting', `i-${ACCOUNT}-${VM}-CLOUD_2.eu`],
    ['a hostname (vm.instancename.flag)', `i-${ACCOUNT}-${VM}-web-01`],
    ['a 63-character hostname', `i-${ACCOUNT}-${VM}-w${'x'.repeat(61)}1`],
    ['a 64-character setting', `i-${ACCOUNT}-${VM}-${'V'.repeat(64)}`],
  ])('accepts an instance name with %s as vmledger makes them', (_what, instanceName) => {
    expect(reasonFor({ ...base, ...target, type: 'RebootDomain', instanceName, forced: true })).toBe('accepted');
  });

  it('accepts the snapshot names the orchestrator makes, CloudStack style in GMT', () => {
    const name = vmSnapshotName(`i-${ACCOUNT}-${VM}-web-01`, new Date('2026-11-21T08:05:09.750+01:00'));
    expect(name).toBe(`i-${ACCOUNT}-${VM}-web-01_VS_20261121070509`);
    expect(reasonFor({ ...snapshot, type: 'DeleteDomainSnapshot', instanceName: `i-${ACCOUNT}-${VM}-web-01`, snapshotName: name })).toBe('accepted');
  });

  const startBody = (domain: Record<string, unknown>) => ({
    ...base,
    type: 'StartDomain',
    domain: { ...(valid[0] as Extract<AgentCommand, { type: 'StartDomain' }>).domain, ...domain },
  });

  it.each([
    ['hostId', { ...target, type: 'RebootDomain', commandId: base.commandId, forced: true }],
    ['commandId', { ...base, ...target, type: 'RebootDomain', commandId: '', forced: true }],
    ['forced', { ...base, ...target, type: 'RebootDomain', forced: 'yes' }],
    ['timeoutMs', { ...base, ...target, type: 'StopDomain', forced: false, timeoutMs: 1.5 }],
    ['targetHostId', { ...base, ...target, type: 'MigrateDomain' }],
    ['volumes[0].type', { ...base, ...target, type: 'DestroyDomain', volumes: [{ ...volume, type: 'SWAP' }] }],
    ['cpuNumber', { ...base, ...target, type: 'ScaleDomain', cpuNumber: 0, cpuSpeed: 1, memory: 1 }],
    ['domain.nics[0].mac', startBody({ nics: [{ ...nic, mac: 5 }] })],
    ['domain.nics[0].vlan', startBody({ nics: [{ ...nic, vlan: -1 }] })],
    ['domain.volumes', startBody({ volumes: null })],
    ['domain.instanceName', startBody({ instanceName: null })],
  ])('refuses a bad %s and names it', (field, body) => {
    expect(reasonFor(body)).toContain(field);
  });

  // Every value reaches a virsh or qemu-img command line, a file name or a domain definition.
  it.each([
    ['an instance name that reads as an option', { ...base, ...target, type: 'StopDomain', instanceName: '--help', forced: true, timeoutMs: 0 }, 'instanceName must be an instance name'],
    ['an imported domain name with a space', { ...base, ...target, type: 'DestroyDomain', instanceName: 'prod db', volumes: [] }, 'instanceName must be an instance name'],
    ['an imported domain name that is a path', { ...base, ...target, type: 'DestroyDomain', instanceName: '../prod-db', volumes: [] }, 'instanceName must be an instance name'],
    ['an imported domain name over 100 characters', { ...base, ...target, type: 'DestroyDomain', instanceName: `d${'b'.repeat(100)}`, volumes: [] }, 'instanceName must be an instance name'],
    ['an instance name with a shell word', { ...base, ...target, type: 'RebootDomain', instanceName: `i-${ACCOUNT}-${VM}-$(id)`, forced: true }, 'instanceName must be an instance name'],
    ['an overlong instance name', { ...base, ...target, type: 'RebootDomain', instanceName: `i-${ACCOUNT}-${VM}-${'V'.repeat(65)}`, forced: true }, 'instanceName must be an instance name'],
    ['an instance id that is no UUID', { ...base, ...target, type: 'RebootDomain', instanceId: 'vm-1', forced: true }, 'instanceId must be a lower-case UUID'],
    ['a volume id that is a path', { ...base, ...target, type: 'DestroyDomain', volumes: [{ ...volume, volumeId: '../../etc/passwd' }] }, 'volumes[0].volumeId must be a lower-case UUID, got "../../etc/passwd"'],
    ['a template id that is a path', startBody({ volumes: [{ ...volume, templateId: '../../../root/.ssh/id' }] }), 'domain.volumes[0].templateId must be a lower-case UUID'],
    ['a volume listed twice', { ...base, ...target, type: 'DestroyDomain', volumes: [volume, volume] }, `volumes lists ${volume.volumeId} twice`],
    ['too many volumes', { ...base, ...target, type: 'DestroyDomain', volumes: Array.from({ length: MAX_VOLUMES + 1 }, () => volume) }, `volumes must have at most ${MAX_VOLUMES} items`],
    ['too many NICs', startBody({ nics: Array.from({ length: MAX_NICS + 1 }, () => nic) }), `domain.nics must have at most ${MAX_NICS} items`],
    ['a volume size beyond a petabyte', startBody({ volumes: [{ ...volume, size: 2 ** 51 }] }), 'domain.volumes[0].size must be an integer from 0 to'],
    ['a stop timeout beyond a day', { ...base, ...target, type: 'StopDomain', forced: false, timeoutMs: MAX_TIMEOUT_MS + 1 }, `timeoutMs must be an integer from 0 to ${MAX_TIMEOUT_MS}`],
    ['a million vCPUs', { ...base, ...target, type: 'ScaleDomain', cpuNumber: 1_000_000, cpuSpeed: 1000, memory: 1024 }, 'cpuNumber must be an integer from 1 to 1024'],
    ['memory beyond 16 TiB', { ...base, ...target, type: 'ScaleDomain', cpuNumber: 1, cpuSpeed: 1000, memory: 2 ** 40 }, 'memory must be an integer from 1 to'],
    ['a MAC that is not one', startBody({ nics: [{ ...nic, mac: '02:00:00:00:00' }] }), 'domain.nics[0].mac must be a lower-case MAC address'],
    ['a multicast MAC', startBody({ nics: [{ ...nic, mac: '01:00:5e:00:00:01' }] }), 'domain.nics[0].mac 01:00:5e:00:00:01 is a multicast address'],
    ['an IP that is not one', startBody({ nics: [{ ...nic, ip: '10.1.0.5; reboot' }] }), 'domain.nics[0].ip must be an IPv4 or IPv6 address'],
    ['a VLAN beyond 4094', startBody({ nics: [{ ...nic, vlan: 4095 }] }), 'domain.nics[0].vlan must be an integer from 0 to 4094'],
    ['a network id that is no UUID', startBody({ nics: [{ ...nic, networkId: 'net-1' }] }), 'domain.nics[0].networkId must be a lower-case UUID'],
    ['a host id that is no UUID', { ...base, ...target, hostId: 'h1', type: 'RebootDomain', forced: true }, 'hostId must be a lower-case UUID'],
    ['a migration target that is no UUID', { ...base, ...target, type: 'MigrateDomain', targetHostId: '--live' }, 'targetHostId must be a lower-case UUID'],
    ['a command id of no job', { ...base, ...target, commandId: 'c-1', type: 'RebootDomain', forced: true }, 'commandId must be a command id'],
    ['a snapshot name that reads as an option', { ...snapshot, type: 'DeleteDomainSnapshot', snapshotName: '--children' }, 'snapshotName must be a VM snapshot name'],
    ['a snapshot name with a shell word', { ...snapshot, type: 'DeleteDomainSnapshot', snapshotName: `${NAME}_VS_$(reboot)` }, 'snapshotName must be a VM snapshot name'],
    ['a snapshot name of no time', { ...snapshot, type: 'DeleteDomainSnapshot', snapshotName: `${NAME}_VS_20261321080000` }, 'snapshotName must be a VM snapshot name'],
    ['a snapshot of another instance', { ...snapshot, type: 'RevertDomainSnapshot', kind: 'Disk', snapshotName: `i-${ACCOUNT}-${OTHER_VM}-VM_VS_20261121080000` }, `is not a snapshot of ${NAME}`],
    ['an overlong snapshot name', { ...snapshot, type: 'DeleteDomainSnapshot', snapshotName: `${SNAPSHOT}${'0'.repeat(100_000)}` }, 'snapshotName must be at most 158 characters, has 100'],
    ['a snapshot kind CloudStack has not', { ...snapshot, type: 'RevertDomainSnapshot', kind: 'Memory' }, 'kind must be one of Disk, DiskAndMemory'],
    ['a quiesce that is no flag', { ...snapshot, type: 'CreateDomainSnapshot', kind: 'Disk', quiesce: 'no', description: null }, 'quiesce must be a boolean'],
    ['a description with an escape sequence', { ...snapshot, type: 'CreateDomainSnapshot', kind: 'Disk', quiesce: false, description: 'ok\u001b[2J' }, 'description must not contain control characters (found U+001B at position 2)'],
    ['a description beyond 255 characters', { ...snapshot, type: 'CreateDomainSnapshot', kind: 'Disk', quiesce: false, description: 'd'.repeat(MAX_SNAPSHOT_DESCRIPTION + 1) }, 'description must be at most 255 characters'],
    [
      'an adoption whose spec is of another domain',
      { ...base, ...target, type: 'ManageDomain', domain: { ...(valid[0] as Extract<AgentCommand, { type: 'StartDomain' }>).domain, instanceName: 'other' }, diskPositions: [0] },
      'domain must be the spec of the instance the command names',
    ],
    [
      'an adoption without a disk position for each volume',
      { ...base, ...target, type: 'ManageDomain', domain: (valid[0] as Extract<AgentCommand, { type: 'StartDomain' }>).domain, diskPositions: [] },
      'diskPositions must give a position for each of the 1 volumes',
    ],
    [
      'an adoption naming one disk twice',
      { ...base, ...target, type: 'ManageDomain', domain: { ...(valid[0] as Extract<AgentCommand, { type: 'StartDomain' }>).domain, volumes: [volume, data] }, diskPositions: [0, 0] },
      'diskPositions lists 0 twice',
    ],
  ])('refuses %s', (_what, body, reason) => {
    expect(reasonFor(body)).toContain(reason);
  });

  it('shows at most the start of a huge value in its reason', () => {
    const reason = reasonFor({ ...base, ...target, type: 'RebootDomain', instanceName: `i-${'x'.repeat(100_000)}`, forced: true });
    expect(reason.length).toBeLessThan(200);
  });

  it('keeps what an unreadable command says of itself, when a reply could be addressed by it', () => {
    const stop = { ...base, ...target, type: 'StopDomain', forced: false, timeoutMs: -1 };
    expect(parseAgentCommand({ id: 'm', type: 'StopDomain', body: stop })).toEqual({
      ok: false,
      reason: `timeoutMs must be an integer from 0 to ${MAX_TIMEOUT_MS}`,
      envelope: { commandId: base.commandId, hostId: HOST, type: 'StopDomain', instanceName: NAME },
    });
    const start = startBody({ volumes: [{ ...volume, size: 1e26 }] });
    expect(parseAgentCommand({ id: 'm', type: 'StartDomain', body: start as unknown as BusMessage['body'] })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('domain.volumes[0].size must be an integer from 0 to'),
      envelope: { commandId: base.commandId, hostId: HOST, type: 'StartDomain', instanceName: NAME },
    });
    // A name that is not one of vmledger's is not repeated back.
    expect(parseAgentCommand({ id: 'm', type: 'StopDomain', body: { ...stop, instanceName: '--help' } })).toMatchObject({
      ok: false,
      envelope: { commandId: base.commandId, instanceName: undefined },
    });
    // Without a well-formed commandId, hostId or a known type there is nobody to answer.
    for (const body of [{ ...stop, commandId: 7 }, { ...stop, hostId: '' }, { ...stop, hostId: 'x'.repeat(10_000) }, { ...stop, type: 'FormatDisk' }]) {
      expect(parseAgentCommand({ id: 'm', type: String(body.type), body })).toMatchObject({ ok: false, envelope: undefined });
    }
  });

  it('refuses a body that is not an object, an unknown type and a message type that disagrees', () => {
    expect(parseAgentCommand({ id: 'm', type: 'StartDomain', body: [] })).toEqual({ ok: false, reason: 'the body must be an object', envelope: undefined });
    expect(parseAgentCommand({ id: 'm', type: 'Nope', body: { ...base, type: 'Nope' } })).toMatchObject({ ok: false });
    const reboot = toBusMessage('m', { ...base, ...target, type: 'RebootDomain', forced: true });
    expect(parseAgentCommand({ ...reboot, type: 'StopDomain' })).toMatchObject({ ok: false, reason: expect.stringMatching(/differs/) });
  });
});

describe('parseAgentCommand: CopyVolumes', () => {
  const copy = (volumes: unknown) => reasonFor({ ...base, ...target, type: 'CopyVolumes', volumes });
  it.each([
    ['a relative directory', 'mnt/second', 'volumes[0].toPath must be an absolute directory path'],
    ['a directory climbing out', '/mnt/../etc', 'volumes[0].toPath must be an absolute directory path'],
    ['whitespace', '/mnt/sec ond', 'volumes[0].toPath must be an absolute directory path'],
  ])('refuses %s as a pool directory', (_what, toPath, reason) => {
    expect(copy([{ ...volume, fromPath: '/a', toPath }])).toBe(reason);
  });
  it('refuses a volume copied twice in one command', () => {
    const once = { ...volume, fromPath: '/a', toPath: '/b' };
    expect(copy([once, once])).toMatch(/lists .* twice/);
  });
});
