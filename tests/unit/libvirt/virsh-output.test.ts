import { describe, expect, it } from 'vitest';
import { parseImageInfo } from '../../../adapters/hypervisor/libvirt/disk-images.js';
import { classifyVirshFailure } from '../../../adapters/hypervisor/libvirt/host-commands.js';
import {
  parseBlockInfo,
  parseDomainList,
  parseDomainState,
  parseLifecycleEvent,
  parseNodeInfo,
  powerStateOf,
  VirshOutputError,
} from '../../../adapters/hypervisor/libvirt/virsh-output.js';

describe('virsh nodeinfo', () => {
  it('reads cores, MHz and memory (KiB → MiB)', () => {
    const output = [
      'CPU model:           x86_64',
      'CPU(s):              2',
      'CPU frequency:       2596 MHz',
      'CPU socket(s):       1',
      'Core(s) per socket:  2',
      'Thread(s) per core:  1',
      'NUMA cell(s):        1',
      'Memory size:         24684544 KiB',
      '',
    ].join('\n');
    expect(parseNodeInfo(output)).toEqual({ cpuNumber: 2, cpuSpeed: 2596, memory: 24106 });
  });

  it('refuses output without the fields', () => {
    expect(() => parseNodeInfo('error: failed to connect to the hypervisor\n')).toThrow(VirshOutputError);
    expect(() => parseNodeInfo('CPU(s): 2\nCPU frequency: fast\nMemory size: 1 KiB\n')).toThrow(/CPU frequency/);
  });
});

describe('virsh list --all', () => {
  it('reads running and shut-off domains, with long names and states of two words', () => {
    const output = [
      ' Id   Name                        State',
      '--------------------------------------------',
      ' 1    i-2-14-VM                   running',
      ' 7    vmlc-3f2a9c1e               paused',
      ' 12   i-10-2048-VM                in shutdown',
      ' -    i-3-15-VM                   shut off',
      ' -    a domain with spaces        shut off',
      '',
    ].join('\n');
    expect(parseDomainList(output)).toEqual([
      { instanceName: 'i-2-14-VM', powerState: 'running' },
      { instanceName: 'vmlc-3f2a9c1e', powerState: 'running' },
      { instanceName: 'i-10-2048-VM', powerState: 'running' },
      { instanceName: 'i-3-15-VM', powerState: 'stopped' },
      { instanceName: 'a domain with spaces', powerState: 'stopped' },
    ]);
  });

  it('reads a host without domains', () => {
    expect(parseDomainList(' Id   Name   State\n--------------------\n\n')).toEqual([]);
  });

  it('refuses a state it does not know instead of guessing', () => {
    expect(() => parseDomainList(' Id   Name   State\n------------\n 1    vm   levitating\n')).toThrow(VirshOutputError);
  });
});

describe('virsh domstate', () => {
  it.each([
    ['running\n\n', 'running'],
    ['shut off\n\n', 'stopped'],
    ['shut off (destroyed)\n\n', 'stopped'],
    ['paused (migrating)\n', 'running'],
    ['in shutdown\n', 'running'],
    ['crashed\n', 'stopped'],
    ['pmsuspended\n', 'running'],
  ] as const)('%j is %s', (output, state) => {
    expect(parseDomainState(output)).toBe(state);
  });

  it('maps every state word libvirt has', () => {
    for (const word of ['no state', 'running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended']) {
      expect(['running', 'stopped']).toContain(powerStateOf(word));
    }
  });
});

describe('virsh domblkinfo --all', () => {
  it('reads each disk capacity by target, skipping empty drives', () => {
    const output = [
      ' Target   Capacity      Allocation   Physical',
      '------------------------------------------------',
      ' vda      1073741824    200704       200704',
      ' vdb      16777216      196608       196608',
      ' sda      -             -            -',
      '',
    ].join('\n');
    expect(parseBlockInfo(output)).toEqual(
      new Map([
        ['vda', 1073741824],
        ['vdb', 16777216],
      ]),
    );
  });
});

describe('virsh event --loop', () => {
  it.each([
    ["event 'lifecycle' for domain 'i-2-14-VM': Stopped Shutdown", { instanceName: 'i-2-14-VM', event: 'Stopped', detail: 'Shutdown' }],
    ["event 'lifecycle' for domain 'vm': Started Booted\r", { instanceName: 'vm', event: 'Started', detail: 'Booted' }],
    ["event 'lifecycle' for domain i-2-14-VM: Undefined Removed", { instanceName: 'i-2-14-VM', event: 'Undefined', detail: 'Removed' }],
    [
      "2024-05-01 10:00:00.123+0000: event 'lifecycle' for domain 'vm': Suspended Migrated",
      { instanceName: 'vm', event: 'Suspended', detail: 'Migrated' },
    ],
  ])('reads %j', (line, event) => {
    expect(parseLifecycleEvent(line)).toEqual(event);
  });

  it('ignores other lines', () => {
    expect(parseLifecycleEvent("event 'reboot' for domain 'vm'")).toBeNull();
    expect(parseLifecycleEvent('events received: 3')).toBeNull();
    expect(parseLifecycleEvent('')).toBeNull();
  });
});

describe('qemu-img info', () => {
  it('reads the virtual size and format', () => {
    const json = JSON.stringify({
      'virtual-size': 67108864,
      filename: '/var/lib/vmledger/images/vol.qcow2',
      'cluster-size': 65536,
      format: 'qcow2',
      'actual-size': 200704,
      'backing-filename': '/var/lib/vmledger/images/templates/t.qcow2',
      'backing-filename-format': 'qcow2',
      'dirty-flag': false,
    });
    expect(parseImageInfo(json)).toEqual({ virtualSize: 67108864, format: 'qcow2' });
  });

  it('refuses anything else', () => {
    expect(() => parseImageInfo('qemu-img: Could not open')).toThrow(SyntaxError);
    expect(() => parseImageInfo('{"format":"raw"}')).toThrow(/no virtual size/);
  });
});

describe('virsh failures', () => {
  it.each([
    ["error: failed to get domain 'i-9-VM'\n", 'NOT_FOUND'],
    ["error: Domain not found: no domain with matching name 'i-9-VM'\n", 'NOT_FOUND'],
    ['error: Failed to destroy domain \'x\'\nerror: Requested operation is not valid: domain is not running\n', 'NOT_RUNNING'],
    ['error: internal error: process exited while connecting to monitor: cannot set up guest memory \'pc.ram\': Cannot allocate memory\n', 'INSUFFICIENT_CAPACITY'],
    ['error: invalid argument: requested vcpus is greater than max allowable vcpus for the live domain: 4 > 2\n', 'INSUFFICIENT_CAPACITY'],
    ['error: invalid argument: cannot set memory higher than max memory\n', 'INSUFFICIENT_CAPACITY'],
    ['error: operation failed: migration out job: unexpectedly failed\n', 'REMOTE_COMMAND_FAILED'],
  ] as const)('%j → %s', (stderr, code) => {
    expect(classifyVirshFailure(stderr)).toBe(code);
  });
});
