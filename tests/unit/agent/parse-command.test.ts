import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../adapters/bus/port.js';
import { parseAgentCommand } from '../../../adapters/hypervisor/parse-command.js';
import { toBusMessage, type AgentCommand } from '../../../adapters/hypervisor/protocol.js';

const volume = { volumeId: 'v-1', type: 'ROOT', size: 2_147_483_648, templateId: 't-1' } as const;
const nic = { nicId: 'n-1', networkId: 'net-1', mac: '02:00:00:00:00:01', ip: '10.1.0.5', vlan: 200, deviceId: 0 } as const;
const base = { commandId: 'c-1', hostId: 'h1' };

const valid: AgentCommand[] = [
  {
    ...base,
    type: 'StartDomain',
    domain: { instanceId: 'vm-1', instanceName: 'i-2-14-VM', cpuNumber: 2, cpuSpeed: 1000, memory: 1024, nics: [nic], volumes: [volume] },
  },
  { ...base, type: 'StopDomain', instanceName: 'i-2-14-VM', forced: false, timeoutMs: 600_000 },
  { ...base, type: 'RebootDomain', instanceName: 'i-2-14-VM', forced: true },
  { ...base, type: 'MigrateDomain', instanceName: 'i-2-14-VM', targetHostId: 'h2' },
  { ...base, type: 'DestroyDomain', instanceName: 'i-2-14-VM', volumes: [volume, { ...volume, volumeId: 'v-2', type: 'DATADISK', templateId: null }] },
  { ...base, type: 'ScaleDomain', instanceName: 'i-2-14-VM', cpuNumber: 4, cpuSpeed: 2000, memory: 4096 },
];

/** What the bus hands over: a parsed copy of the JSON, not the sender's object. */
const overTheWire = (message: BusMessage): BusMessage => JSON.parse(JSON.stringify(message)) as BusMessage;

describe('parseAgentCommand', () => {
  it.each(valid.map((command) => [command.type, command] as const))('accepts a well-formed %s', (_type, command) => {
    expect(parseAgentCommand(overTheWire(toBusMessage('m-1', command)))).toEqual({ ok: true, command });
  });

  const startBody = (domain: Record<string, unknown>) => ({
    ...base,
    type: 'StartDomain',
    domain: { ...(valid[0] as Extract<AgentCommand, { type: 'StartDomain' }>).domain, ...domain },
  });

  it.each([
    ['hostId', { type: 'RebootDomain', commandId: 'c', instanceName: 'i', forced: true }],
    ['commandId', { type: 'RebootDomain', commandId: '', hostId: 'h1', instanceName: 'i', forced: true }],
    ['forced', { ...base, type: 'RebootDomain', instanceName: 'i', forced: 'yes' }],
    ['timeoutMs', { ...base, type: 'StopDomain', instanceName: 'i', forced: false, timeoutMs: 1.5 }],
    ['targetHostId', { ...base, type: 'MigrateDomain', instanceName: 'i' }],
    ['volumes[0].type', { ...base, type: 'DestroyDomain', instanceName: 'i', volumes: [{ ...volume, type: 'SWAP' }] }],
    ['cpuNumber', { ...base, type: 'ScaleDomain', instanceName: 'i', cpuNumber: 0, cpuSpeed: 1, memory: 1 }],
    ['domain.nics[0].mac', startBody({ nics: [{ ...nic, mac: 5 }] })],
    ['domain.nics[0].vlan', startBody({ nics: [{ ...nic, vlan: -1 }] })],
    ['domain.volumes', startBody({ volumes: null })],
    ['domain.instanceName', startBody({ instanceName: null })],
  ])('refuses a bad %s and names it', (field, body) => {
    const result = parseAgentCommand({ id: 'm-1', type: String(body.type), body: body as unknown as BusMessage['body'] });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(field);
  });

  it('keeps what an unreadable command says of itself, when a reply could be addressed by it', () => {
    const stop = { ...base, type: 'StopDomain', instanceName: 'i-2-14-VM', forced: false, timeoutMs: -1 };
    expect(parseAgentCommand({ id: 'm', type: 'StopDomain', body: stop })).toEqual({
      ok: false,
      reason: 'timeoutMs must be an integer ≥ 0',
      envelope: { commandId: 'c-1', hostId: 'h1', type: 'StopDomain', instanceName: 'i-2-14-VM' },
    });
    const start = startBody({ volumes: [{ ...volume, size: 1e26 }] });
    expect(parseAgentCommand({ id: 'm', type: 'StartDomain', body: start as unknown as BusMessage['body'] })).toMatchObject({
      ok: false,
      reason: 'domain.volumes[0].size must be an integer ≥ 0',
      envelope: { commandId: 'c-1', hostId: 'h1', type: 'StartDomain', instanceName: 'i-2-14-VM' },
    });
    // Without a commandId, a hostId or a known type there is nobody to answer.
    for (const body of [{ ...stop, commandId: 7 }, { ...stop, hostId: '' }, { ...stop, type: 'FormatDisk' }]) {
      expect(parseAgentCommand({ id: 'm', type: String(body.type), body })).toMatchObject({ ok: false, envelope: undefined });
    }
  });

  it('refuses a body that is not an object, an unknown type and a message type that disagrees', () => {
    expect(parseAgentCommand({ id: 'm', type: 'StartDomain', body: [] })).toEqual({ ok: false, reason: 'the body must be an object', envelope: undefined });
    expect(parseAgentCommand({ id: 'm', type: 'Nope', body: { ...base, type: 'Nope' } })).toMatchObject({ ok: false });
    const reboot = toBusMessage('m', { ...base, type: 'RebootDomain', instanceName: 'i', forced: true });
    expect(parseAgentCommand({ ...reboot, type: 'StopDomain' })).toMatchObject({ ok: false, reason: expect.stringMatching(/differs/) });
  });
});
