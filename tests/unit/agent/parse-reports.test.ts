import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../adapters/bus/port.js';
import { parseAgentReply, parseAgentReport, parseHeartbeat, parsePowerStateReport } from '../../../adapters/hypervisor/parse-reports.js';
import { toBusMessage, type AgentReply, type HostHeartbeat, type PowerStateReport } from '../../../adapters/hypervisor/protocol.js';

/** What the bus hands over: a parsed copy of the JSON, not the sender's object. */
const overTheWire = (message: BusMessage): BusMessage => JSON.parse(JSON.stringify(message)) as BusMessage;
const raw = (type: string, body: unknown): BusMessage => ({ id: 'm-1', type, body: body as BusMessage['body'] });

const succeeded: AgentReply = { type: 'AgentReply', commandId: 'job-1.0', hostId: 'h1', command: 'StartDomain', outcome: 'succeeded', powerState: 'running' };
const failed: AgentReply = {
  type: 'AgentReply',
  commandId: 'job-1.1',
  hostId: 'h1',
  command: 'StopDomain',
  outcome: 'failed',
  powerState: 'running',
  error: { message: 'shutdown timed out', detail: 'error: guest ignored ACPI' },
};
const report: PowerStateReport = {
  type: 'PowerStateReport',
  hostId: 'h1',
  at: '2026-11-21T08:00:00.000Z',
  domains: [
    { instanceName: 'i-2-14-VM', powerState: 'running' },
    { instanceName: 'i-2-15-VM', powerState: 'stopped' },
  ],
};
const heartbeat: HostHeartbeat = {
  type: 'HostHeartbeat',
  hostId: 'h1',
  at: '2026-11-21T08:00:00.000Z',
  cpuNumber: 16,
  cpuSpeed: 2000,
  memory: 65536,
  capabilities: ['snapshot.memory', 'snapshot.disk.stopped'],
};
const snapshotTaken: AgentReply = {
  ...succeeded,
  command: 'CreateDomainSnapshot',
  snapshot: { name: 'i-2-14-VM_VS_20261121080000', sizeBytes: 1_363_148 },
};

describe('parseAgentReply', () => {
  it.each([
    ['a success', succeeded],
    ['a failure with its error', failed],
    ['a failure whose error has no detail', { ...failed, error: { message: '' } }],
    ['a destroy of a domain that is gone', { ...succeeded, command: 'DestroyDomain', powerState: 'missing' }],
    ['a snapshot taken, with its size', snapshotTaken],
  ] as const)('accepts %s', (_what, reply) => {
    expect(parseAgentReply(overTheWire(toBusMessage('m-1', reply)))).toEqual({ ok: true, value: reply });
  });

  it('keeps only the fields of the protocol', () => {
    const parsed = parseAgentReply(raw('AgentReply', { ...succeeded, extra: { deep: true } }));
    expect(parsed).toEqual({ ok: true, value: succeeded });
  });

  it.each([
    ['the body must be an object', raw('AgentReply', ['a'])],
    ['type must be AgentReply', raw('AgentReply', { ...succeeded, type: 'Reply' })],
    ['message type PowerStateReport differs from body type AgentReply', raw('PowerStateReport', succeeded)],
    ['commandId must be a non-empty string', raw('AgentReply', { ...succeeded, commandId: 7 })],
    ['commandId must be a non-empty string', raw('AgentReply', { ...succeeded, commandId: '' })],
    ['hostId must be a non-empty string', raw('AgentReply', { ...succeeded, hostId: undefined })],
    ['command "FormatDisk" is not an agent command', raw('AgentReply', { ...succeeded, command: 'FormatDisk' })],
    ['command null is not an agent command', raw('AgentReply', { ...succeeded, command: undefined })],
    ['outcome must be one of succeeded, failed', raw('AgentReply', { ...succeeded, outcome: 'ok' })],
    ['powerState must be one of running, stopped, missing', raw('AgentReply', { ...succeeded, powerState: 'exploded' })],
    ['powerState must be one of running, stopped, missing', raw('AgentReply', { ...succeeded, powerState: null })],
    ['error must be an object', raw('AgentReply', { ...failed, error: 'boom' })],
    ['error must be an object', raw('AgentReply', { ...failed, error: null })],
    ['error.message must be a string', raw('AgentReply', { ...failed, error: { detail: 'stderr' } })],
    ['error.detail must be a string', raw('AgentReply', { ...failed, error: { message: 'm', detail: 42 } })],
    ['snapshot must be an object', raw('AgentReply', { ...snapshotTaken, snapshot: 'i-2-14-VM_VS_20261121080000' })],
    ['snapshot.name must be a non-empty string', raw('AgentReply', { ...snapshotTaken, snapshot: { name: '', sizeBytes: 1 } })],
    ['snapshot.sizeBytes must be an integer ≥ 0', raw('AgentReply', { ...snapshotTaken, snapshot: { name: 's', sizeBytes: -1 } })],
    ['snapshot.sizeBytes must be an integer ≥ 0', raw('AgentReply', { ...snapshotTaken, snapshot: { name: 's' } })],
  ])('refuses with the reason: %s', (reason, message) => {
    expect(parseAgentReply(message)).toEqual({ ok: false, reason });
  });
});

describe('parsePowerStateReport', () => {
  it('accepts a report, an empty one too', () => {
    expect(parsePowerStateReport(overTheWire(toBusMessage('m-1', report)))).toEqual({ ok: true, value: report });
    expect(parsePowerStateReport(overTheWire(toBusMessage('m-1', { ...report, domains: [] })))).toEqual({ ok: true, value: { ...report, domains: [] } });
  });

  it.each([
    ['the body must be an object', raw('PowerStateReport', null)],
    ['type must be PowerStateReport', raw('PowerStateReport', { ...report, type: 'HostHeartbeat' })],
    ['hostId must be a non-empty string', raw('PowerStateReport', { ...report, hostId: 1 })],
    ['at must be an ISO-8601 time', raw('PowerStateReport', { ...report, at: 'yesterday' })],
    ['at must be an ISO-8601 time', raw('PowerStateReport', { ...report, at: undefined })],
    ['domains must be an array', raw('PowerStateReport', { ...report, domains: { 'i-2-14-VM': 'running' } })],
    ['domains[1] must be an object', raw('PowerStateReport', { ...report, domains: [report.domains[0], 'i-2-15-VM'] })],
    ['domains[0].instanceName must be a non-empty string', raw('PowerStateReport', { ...report, domains: [{ instanceName: 5, powerState: 'running' }] })],
    ['domains[0].powerState must be one of running, stopped, missing', raw('PowerStateReport', { ...report, domains: [{ instanceName: 'i-2-14-VM', powerState: 'off' }] })],
  ])('refuses with the reason: %s', (reason, message) => {
    expect(parsePowerStateReport(message)).toEqual({ ok: false, reason });
  });
});

describe('parseHeartbeat', () => {
  it('accepts a heartbeat', () => {
    expect(parseHeartbeat(overTheWire(toBusMessage('m-1', heartbeat)))).toEqual({ ok: true, value: heartbeat });
  });

  it('leaves out a capability it does not know, so a newer agent still reports to this orchestrator', () => {
    const parsed = parseHeartbeat(raw('HostHeartbeat', { ...heartbeat, capabilities: ['snapshot.memory', 'gpu.passthrough', 'snapshot.memory', 'instance.conversion'] }));
    expect(parsed).toEqual({ ok: true, value: { ...heartbeat, capabilities: ['snapshot.memory', 'instance.conversion'] } });
  });

  it('reads an agent that predates capabilities as a host with none', () => {
    const { capabilities: _none, ...old } = heartbeat;
    expect(parseHeartbeat(raw('HostHeartbeat', old))).toEqual({ ok: true, value: { ...heartbeat, capabilities: [] } });
  });

  it.each([
    ['hostId must be a non-empty string', raw('HostHeartbeat', { ...heartbeat, hostId: '' })],
    ['at must be an ISO-8601 time', raw('HostHeartbeat', { ...heartbeat, at: 0 })],
    ['cpuNumber must be an integer ≥ 0', raw('HostHeartbeat', { ...heartbeat, cpuNumber: '16' })],
    ['cpuSpeed must be an integer ≥ 0', raw('HostHeartbeat', { ...heartbeat, cpuSpeed: 1.5 })],
    ['memory must be an integer ≥ 0', raw('HostHeartbeat', { ...heartbeat, memory: -1 })],
    ['capabilities must be an array', raw('HostHeartbeat', { ...heartbeat, capabilities: 'snapshot.memory' })],
    ['capabilities[1] must be a non-empty string', raw('HostHeartbeat', { ...heartbeat, capabilities: ['snapshot.memory', 7] })],
    ['capabilities must have at most 64 items, has 65', raw('HostHeartbeat', { ...heartbeat, capabilities: Array.from({ length: 65 }, () => 'x') })],
  ])('refuses with the reason: %s', (reason, message) => {
    expect(parseHeartbeat(message)).toEqual({ ok: false, reason });
  });
});

describe('parseAgentReport', () => {
  it('reads a report by its message type', () => {
    expect(parseAgentReport(toBusMessage('m-1', report))).toEqual({ ok: true, value: report });
    expect(parseAgentReport(toBusMessage('m-1', heartbeat))).toEqual({ ok: true, value: heartbeat });
  });

  it('refuses a type that is no report, and a body that is not the report its message type says', () => {
    expect(parseAgentReport(toBusMessage('m-1', succeeded))).toEqual({ ok: false, reason: 'type "AgentReply" is not an agent report' });
    expect(parseAgentReport(raw('HostHeartbeat', report))).toEqual({ ok: false, reason: 'type must be HostHeartbeat' });
  });
});

describe('parseAgentReply of a conversion and an import', () => {
  const converted: AgentReply = {
    type: 'AgentReply',
    commandId: 'job-2.0',
    hostId: 'h1',
    command: 'ConvertVmwareGuest',
    outcome: 'succeeded',
    powerState: 'missing',
    converted: { disks: [{ position: 0, path: '/mnt/t/e4f5-sda', virtualSize: 1_154_482_176, format: 'qcow2', bus: 'virtio' }], bootMode: 'BIOS' },
  };
  const imported: AgentReply = {
    type: 'AgentReply',
    commandId: 'job-2.1',
    hostId: 'h1',
    command: 'ImportConvertedDisks',
    outcome: 'succeeded',
    powerState: 'missing',
    volumes: [{ volumeId: 'v-1', path: '/var/lib/vmledger/v-1.qcow2', virtualSize: 1_154_482_176, format: 'qcow2' }],
  };

  it('keeps the converted disks and the imported volumes', () => {
    expect(parseAgentReply(overTheWire(toBusMessage('r-2', converted)))).toEqual({ ok: true, value: converted });
    expect(parseAgentReply(overTheWire(toBusMessage('r-3', imported)))).toEqual({ ok: true, value: imported });
  });

  it('refuses a converted disk without its size or a boot mode it does not know', () => {
    const disk = converted.converted!.disks[0]!;
    expect(parseAgentReply(raw('AgentReply', { ...converted, converted: { disks: [{ ...disk, virtualSize: -1 }], bootMode: 'BIOS' } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/converted.disks\[0\].virtualSize/) });
    expect(parseAgentReply(raw('AgentReply', { ...converted, converted: { disks: [disk], bootMode: 'CSM' } }))).toMatchObject({ ok: false, reason: expect.stringMatching(/converted.bootMode/) });
  });
});
