import { describe, expect, it } from 'vitest';
import {
  capacityShortfall,
  hostCapacitySummary,
  hostDecider,
  hostState,
  hostStream,
  reservedInstanceIds,
  type AddHostCommand,
  type HostEvent,
} from '../../../domain/host/index.js';
import type { HostCapability } from '../../../domain/agent-protocol/index.js';
import { stateOf } from './support.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const addSim: AddHostCommand = {
  type: 'AddHost',
  hostId: 'h1',
  zoneId: 'z1',
  clusterId: 'c1',
  hypervisor: 'KVM',
  name: 'sim-host-1',
  driver: 'simulator',
  cpuNumber: 4,
  cpuSpeed: 1000,
  memory: 4096,
  hostTags: ['ssd', ' fast ', 'ssd'],
  at,
};
const hostAdded: HostEvent = {
  type: 'HostAdded',
  data: {
    hostId: 'h1',
    zoneId: 'z1',
    clusterId: 'c1',
    hypervisor: 'KVM',
    name: 'sim-host-1',
    driver: 'simulator',
    cpuNumber: 4,
    cpuSpeed: 1000,
    memory: 4096,
    hostTags: ['ssd', 'fast'],
    url: null,
    username: null,
    credentialRef: null,
    simulator: { startDelayMs: 0, stopDelayMs: 0, failOn: [] },
    created: at,
  },
};
const reserved = (instanceId: string, cpuNumber: number, cpuSpeed: number, memory: number): HostEvent => ({
  type: 'HostCapacityReserved',
  data: { hostId: 'h1', instanceId, cpuNumber, cpuSpeed, memory },
});
const ref = { hostId: 'h1' };
const prepared: HostEvent = { type: 'HostMaintenancePrepared', data: ref };
const inMaintenance: HostEvent = { type: 'HostEnteredMaintenance', data: ref };
const disabled: HostEvent = { type: 'HostDisabled', data: ref };

describe('host', () => {
  it('names its stream host-<id>', () => {
    expect(hostStream('h1')).toBe('host-h1');
  });

  describe('AddHost', () => {
    it('adds a simulator host with normalised tags, Up and Enabled', () => {
      const state = given(hostDecider).when(addSim).then([hostAdded]);
      expect(state.kind === 'host' && [state.status, state.resourceState, state.usedCpu, state.usedMemory]).toEqual(['Up', 'Enabled', 0, 0]);
    });
    it('keeps simulator settings', () => {
      const events = given(hostDecider)
        .when({ ...addSim, hostTags: [], simulator: { startDelayMs: 50, failOn: ['START', 'START', 'MIGRATE'] } })
        .then([{ ...hostAdded, data: { ...hostAdded.data, hostTags: [], simulator: { startDelayMs: 50, stopDelayMs: 0, failOn: ['START', 'MIGRATE'] } } } as HostEvent]);
      expect(events.kind).toBe('host');
    });
    it('adds a libvirt host with only a credential reference', () => {
      const command: AddHostCommand = {
        ...addSim,
        driver: 'libvirt',
        url: 'ssh://10.0.0.5',
        username: 'root',
        credentialRef: 'secret://hosts/h1',
      };
      const state = given(hostDecider)
        .when(command)
        .then([
          {
            type: 'HostAdded',
            data: { ...hostAdded.data, driver: 'libvirt', url: 'ssh://10.0.0.5', username: 'root', credentialRef: 'secret://hosts/h1', simulator: null },
          } as HostEvent,
        ]);
      expect(JSON.stringify(state)).not.toContain('password');
    });
    it.each([
      [{ name: '' }, 'name'],
      [{ hostId: '' }, 'hostId'],
      [{ zoneId: '' }, 'zoneId'],
      [{ clusterId: '' }, 'clusterId'],
      [{ driver: 'xen' as 'libvirt' }, 'driver'],
      [{ hypervisor: 'Bochs' as 'KVM' }, 'hypervisor'],
      [{ cpuNumber: 0 }, 'cpuNumber'],
      [{ cpuSpeed: 1.5 }, 'cpuSpeed'],
      [{ memory: -1 }, 'memory'],
      [{ hostTags: ['a,b'] }, 'hostTags'],
      [{ hostTags: [''] }, 'hostTags'],
      [{ at: 'now' }, 'at'],
      [{ simulator: { startDelayMs: -1 } }, 'simulator.startDelayMs'],
      [{ simulator: { stopDelayMs: 3_600_001 } }, 'simulator.stopDelayMs'],
      [{ simulator: { failOn: ['EXPLODE' as 'START'] } }, 'simulator.failOn'],
      [{ url: 'not a url' }, 'url'],
    ] as const)('rejects invalid %o', (change, field) => {
      given(hostDecider).when({ ...addSim, ...change } as AddHostCommand).then('BAD_USER_INPUT', { field });
    });
    it.each([
      [{ url: null }, 'url'],
      [{ username: ' ' }, 'username'],
      [{ credentialRef: null }, 'password'],
      [{ hypervisor: 'VMware' as const }, 'driver'],
      [{ simulator: { startDelayMs: 1 } }, 'simulator'],
    ] as const)('rejects a libvirt host with %o', (change, field) => {
      const libvirt: AddHostCommand = { ...addSim, driver: 'libvirt', url: 'ssh://10.0.0.5', username: 'root', credentialRef: 'ref' };
      given(hostDecider).when({ ...libvirt, ...change } as AddHostCommand).then('BAD_USER_INPUT', { field });
    });
    it('rejects adding an existing host', () => {
      given(hostDecider, [hostAdded]).when(addSim).then('CONFLICT', { field: 'hostId' });
    });
  });

  describe('ReserveCapacity', () => {
    const reserve = (instanceId: string, cpuNumber: number, cpuSpeed: number, memory: number) =>
      ({ type: 'ReserveCapacity', instanceId, cpuNumber, cpuSpeed, memory }) as const;

    it('reserves what fits and accounts cores × MHz', () => {
      const state = given(hostDecider, [hostAdded]).when(reserve('vm1', 2, 1000, 1024)).then([reserved('vm1', 2, 1000, 1024)]);
      expect(state.kind === 'host' && [state.usedCpu, state.usedMemory]).toEqual([2000, 1024]);
    });
    it('takes the host to exactly full', () => {
      const state = given(hostDecider, [hostAdded, reserved('vm1', 2, 1000, 1024)])
        .when(reserve('vm2', 2, 1000, 3072))
        .then([reserved('vm2', 2, 1000, 3072)]);
      expect(state.kind === 'host' && hostCapacitySummary(state)).toEqual({ totalCpu: 4000, usedCpu: 4000, totalMemory: 4096, usedMemory: 4096, instanceCount: 2 });
    });
    it('is a no-op when the instance already holds the same reservation', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 2, 1000, 1024)]).when(reserve('vm1', 2, 1000, 1024)).then([]);
    });
    it('is a no-op for a held reservation even when the host is no longer Up', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 1, 1000, 512), disabled]).when(reserve('vm1', 1, 1000, 512)).then([]);
    });
    it('resizes an existing reservation when the difference fits', () => {
      const state = given(hostDecider, [hostAdded, reserved('vm1', 2, 1000, 1024), reserved('vm2', 1, 1000, 1024)])
        .when(reserve('vm1', 3, 1000, 3072))
        .then([reserved('vm1', 3, 1000, 3072)]);
      expect(state.kind === 'host' && [state.usedCpu, state.usedMemory]).toEqual([4000, 4096]);
    });
    it('refuses a resize that does not fit', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 2, 1000, 1024), reserved('vm2', 2, 1000, 1024)])
        .when(reserve('vm1', 3, 1000, 1024))
        .then('INSUFFICIENT_CAPACITY', { field: 'hostId' });
    });
    it('refuses more MHz than are free', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 3, 1000, 512)])
        .when(reserve('vm2', 2, 1000, 512))
        .then('INSUFFICIENT_CAPACITY', { message: /2000 MHz CPU but only 1000 MHz is free/ });
    });
    it('refuses more memory than is free', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 1, 500, 4000)])
        .when(reserve('vm2', 1, 500, 97))
        .then('INSUFFICIENT_CAPACITY', { message: /97 MiB memory but only 96 MiB is free/ });
    });
    it('refuses more cores than the host has, even with MHz to spare', () => {
      given(hostDecider, [hostAdded]).when(reserve('vm1', 5, 100, 64)).then('INSUFFICIENT_CAPACITY');
    });
    it('refuses faster cores than the host has', () => {
      given(hostDecider, [hostAdded]).when(reserve('vm1', 1, 1001, 64)).then('INSUFFICIENT_CAPACITY');
    });
    it.each([
      ['Disconnected', { type: 'HostStatusChanged', data: { hostId: 'h1', from: 'Up', to: 'Disconnected' } }],
      ['Disabled', disabled],
      ['PrepareForMaintenance', prepared],
    ] as const)('refuses a host that is %s', (_label, event) => {
      given(hostDecider, [hostAdded, event as HostEvent]).when(reserve('vm1', 1, 500, 64)).then('INSUFFICIENT_CAPACITY', { field: 'hostId' });
    });
    it.each([
      [{ instanceId: '' }, 'instanceId'],
      [{ cpuNumber: 0 }, 'cpuNumber'],
      [{ cpuSpeed: -5 }, 'cpuSpeed'],
      [{ memory: 1.5 }, 'memory'],
    ] as const)('rejects %o', (change, field) => {
      given(hostDecider, [hostAdded]).when({ ...reserve('vm1', 1, 500, 64), ...change }).then('BAD_USER_INPUT', { field });
    });
    it('rejects a missing host', () => {
      given(hostDecider).when(reserve('vm1', 1, 500, 64)).then('NOT_FOUND', { field: 'hostId' });
    });
  });

  describe('ReleaseCapacity', () => {
    it('releases a reservation with its amounts', () => {
      const state = given(hostDecider, [hostAdded, reserved('vm1', 2, 1000, 1024), reserved('vm2', 1, 500, 256)])
        .when({ type: 'ReleaseCapacity', instanceId: 'vm1' })
        .then([{ type: 'HostCapacityReleased', data: { hostId: 'h1', instanceId: 'vm1', cpuNumber: 2, cpuSpeed: 1000, memory: 1024 } }]);
      expect(state.kind === 'host' && [state.usedCpu, state.usedMemory, reservedInstanceIds(state)]).toEqual([500, 256, ['vm2']]);
    });
    it('is a no-op without a reservation', () => {
      given(hostDecider, [hostAdded]).when({ type: 'ReleaseCapacity', instanceId: 'vm1' }).then([]);
    });
    it('rejects an empty instance id', () => {
      given(hostDecider, [hostAdded]).when({ type: 'ReleaseCapacity', instanceId: '' }).then('BAD_USER_INPUT', { field: 'instanceId' });
    });
    it('rejects a missing host', () => {
      given(hostDecider).when({ type: 'ReleaseCapacity', instanceId: 'vm1' }).then('NOT_FOUND');
    });
  });

  describe('ReportHostStatus', () => {
    it('records a status change', () => {
      const state = given(hostDecider, [hostAdded])
        .when({ type: 'ReportHostStatus', status: 'Disconnected' })
        .then([{ type: 'HostStatusChanged', data: { hostId: 'h1', from: 'Up', to: 'Disconnected' } }]);
      expect(state.kind === 'host' && hostState(state)).toBe('Disconnected');
    });
    it('ignores a repeated status', () => {
      given(hostDecider, [hostAdded]).when({ type: 'ReportHostStatus', status: 'Up' }).then([]);
    });
    it('rejects an unknown status', () => {
      given(hostDecider, [hostAdded]).when({ type: 'ReportHostStatus', status: 'Sleepy' as 'Up' }).then('BAD_USER_INPUT', { field: 'status' });
    });
    it('rejects a missing host', () => {
      given(hostDecider).when({ type: 'ReportHostStatus', status: 'Up' }).then('NOT_FOUND');
    });
  });

  describe('DisableHost / EnableHost', () => {
    it('disables and enables', () => {
      const off = given(hostDecider, [hostAdded]).when({ type: 'DisableHost' }).then([disabled]);
      expect(off.kind === 'host' && hostState(off)).toBe('Disabled');
      const on = given(hostDecider, [hostAdded, disabled]).when({ type: 'EnableHost' }).then([{ type: 'HostEnabled', data: ref }]);
      expect(on.kind === 'host' && hostState(on)).toBe('Up');
    });
    it('treats repeats as no-ops', () => {
      given(hostDecider, [hostAdded, disabled]).when({ type: 'DisableHost' }).then([]);
      given(hostDecider, [hostAdded]).when({ type: 'EnableHost' }).then([]);
    });
    it('refuses both during maintenance', () => {
      given(hostDecider, [hostAdded, prepared]).when({ type: 'DisableHost' }).then('INVALID_STATE');
      given(hostDecider, [hostAdded, prepared, inMaintenance]).when({ type: 'EnableHost' }).then('INVALID_STATE');
    });
    it('rejects a missing host', () => {
      given(hostDecider).when({ type: 'DisableHost' }).then('NOT_FOUND');
      given(hostDecider).when({ type: 'EnableHost' }).then('NOT_FOUND');
    });
  });

  describe('maintenance', () => {
    it('prepares, completes and cancels maintenance', () => {
      given(hostDecider, [hostAdded]).when({ type: 'PrepareHostForMaintenance' }).then([prepared]);
      given(hostDecider, [hostAdded, disabled]).when({ type: 'PrepareHostForMaintenance' }).then([prepared]);
      const state = given(hostDecider, [hostAdded, prepared]).when({ type: 'CompleteHostMaintenance' }).then([inMaintenance]);
      expect(state.kind === 'host' && hostState(state)).toBe('Maintenance');
      const back = given(hostDecider, [hostAdded, prepared, inMaintenance])
        .when({ type: 'CancelHostMaintenance' })
        .then([{ type: 'HostMaintenanceCancelled', data: ref }]);
      expect(back.kind === 'host' && hostState(back)).toBe('Up');
      given(hostDecider, [hostAdded, prepared]).when({ type: 'CancelHostMaintenance' }).then([{ type: 'HostMaintenanceCancelled', data: ref }]);
    });
    it('treats repeated prepare and complete as no-ops', () => {
      given(hostDecider, [hostAdded, prepared]).when({ type: 'PrepareHostForMaintenance' }).then([]);
      given(hostDecider, [hostAdded, prepared, inMaintenance]).when({ type: 'PrepareHostForMaintenance' }).then([]);
      given(hostDecider, [hostAdded, prepared, inMaintenance]).when({ type: 'CompleteHostMaintenance' }).then([]);
    });
    it('refuses to complete maintenance while instances remain', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 1, 500, 64), prepared]).when({ type: 'CompleteHostMaintenance' }).then('INVALID_STATE', { message: /1 instance/ });
    });
    it('refuses to complete maintenance that was not prepared', () => {
      given(hostDecider, [hostAdded]).when({ type: 'CompleteHostMaintenance' }).then('INVALID_STATE');
    });
    it('refuses to cancel maintenance that is not happening', () => {
      given(hostDecider, [hostAdded]).when({ type: 'CancelHostMaintenance' }).then('INVALID_STATE');
    });
    it('rejects a missing host', () => {
      given(hostDecider).when({ type: 'PrepareHostForMaintenance' }).then('NOT_FOUND');
      given(hostDecider).when({ type: 'CompleteHostMaintenance' }).then('NOT_FOUND');
      given(hostDecider).when({ type: 'CancelHostMaintenance' }).then('NOT_FOUND');
    });
  });

  describe('UpdateHostTags', () => {
    it('replaces the tags', () => {
      const state = given(hostDecider, [hostAdded])
        .when({ type: 'UpdateHostTags', hostTags: ['gpu'] })
        .then([{ type: 'HostTagsUpdated', data: { hostId: 'h1', hostTags: ['gpu'] } }]);
      expect(state.kind === 'host' && state.hostTags).toEqual(['gpu']);
    });
    it('ignores identical tags', () => {
      given(hostDecider, [hostAdded]).when({ type: 'UpdateHostTags', hostTags: ['ssd', 'fast'] }).then([]);
    });
    it('rejects an invalid tag', () => {
      given(hostDecider, [hostAdded]).when({ type: 'UpdateHostTags', hostTags: ['a,b'] }).then('BAD_USER_INPUT', { field: 'hostTags' });
    });
    it('rejects a missing host', () => {
      given(hostDecider).when({ type: 'UpdateHostTags', hostTags: [] }).then('NOT_FOUND');
    });
  });

  describe('ReportHostCapabilities', () => {
    const reported = (capabilities: readonly HostCapability[]): HostEvent => ({
      type: 'HostCapabilitiesReported',
      data: { hostId: 'h1', capabilities },
    });
    it('has none until its agent reports them', () => {
      const state = given(hostDecider, [hostAdded]).when({ type: 'ReportHostStatus', status: 'Up' }).then([]);
      expect(state.kind === 'host' && state.capabilities).toEqual([]);
    });
    it('records what the agent reports, in the protocol order without repeats', () => {
      const state = given(hostDecider, [hostAdded])
        .when({ type: 'ReportHostCapabilities', capabilities: ['snapshot.disk.stopped', 'snapshot.memory', 'snapshot.disk.stopped'] })
        .then([reported(['snapshot.memory', 'snapshot.disk.stopped'])]);
      expect(state.kind === 'host' && state.capabilities).toEqual(['snapshot.memory', 'snapshot.disk.stopped']);
    });
    it('appends nothing when a heartbeat repeats them, in any order', () => {
      given(hostDecider, [hostAdded, reported(['snapshot.memory', 'snapshot.disk.stopped'])])
        .when({ type: 'ReportHostCapabilities', capabilities: ['snapshot.disk.stopped', 'snapshot.memory'] })
        .then([]);
      given(hostDecider, [hostAdded]).when({ type: 'ReportHostCapabilities', capabilities: [] }).then([]);
    });
    it('records a change, a loss too (virt-v2v uninstalled)', () => {
      const state = given(hostDecider, [hostAdded, reported(['snapshot.memory', 'instance.conversion'])])
        .when({ type: 'ReportHostCapabilities', capabilities: ['snapshot.memory'] })
        .then([reported(['snapshot.memory'])]);
      expect(state.kind === 'host' && state.capabilities).toEqual(['snapshot.memory']);
    });
    it('refuses a capability the protocol does not know, naming it', () => {
      const bogus = ['snapshot.memory', 'gpu'] as unknown as readonly ['snapshot.memory'];
      given(hostDecider, [hostAdded])
        .when({ type: 'ReportHostCapabilities', capabilities: bogus })
        .then('BAD_USER_INPUT', { field: 'capabilities', message: /Unknown host capability "gpu"/ });
    });
    it('finds no host that is missing or removed', () => {
      given(hostDecider).when({ type: 'ReportHostCapabilities', capabilities: ['snapshot.memory'] }).then('NOT_FOUND');
      given(hostDecider, [hostAdded, disabled, { type: 'HostRemoved', data: ref }])
        .when({ type: 'ReportHostCapabilities', capabilities: ['snapshot.memory'] })
        .then('NOT_FOUND');
    });
  });

  describe('RemoveHost', () => {
    const removed: HostEvent = { type: 'HostRemoved', data: ref };
    it('removes a host in maintenance or disabled', () => {
      given(hostDecider, [hostAdded, prepared, inMaintenance]).when({ type: 'RemoveHost' }).then([removed]);
      given(hostDecider, [hostAdded, disabled]).when({ type: 'RemoveHost' }).then([removed]);
    });
    it('is a no-op on a removed host, and other commands then find no host', () => {
      given(hostDecider, [hostAdded, disabled, removed]).when({ type: 'RemoveHost' }).then([]);
      given(hostDecider, [hostAdded, disabled, removed]).when({ type: 'EnableHost' }).then('NOT_FOUND', { field: 'hostId' });
    });
    it('refuses an active host', () => {
      given(hostDecider, [hostAdded]).when({ type: 'RemoveHost' }).then('INVALID_STATE');
    });
    it('refuses a host that still holds reservations', () => {
      given(hostDecider, [hostAdded, reserved('vm1', 1, 500, 64), disabled]).when({ type: 'RemoveHost' }).then('INVALID_STATE');
    });
    it('rejects a missing host', () => {
      given(hostDecider).when({ type: 'RemoveHost' }).then('NOT_FOUND');
    });
  });

  describe('capacityShortfall', () => {
    const host = { cpuNumber: 4, cpuSpeed: 1000, memory: 1000, usedCpu: 1000, usedMemory: 500 };
    it('accepts exactly the free capacity', () => {
      expect(capacityShortfall(host, { cpuNumber: 3, cpuSpeed: 1000, memory: 500 })).toBeUndefined();
    });
    it('names each limit', () => {
      expect(capacityShortfall(host, { cpuNumber: 5, cpuSpeed: 1, memory: 1 })).toBe('needs 5 cores but the host has 4');
      expect(capacityShortfall(host, { cpuNumber: 1, cpuSpeed: 1001, memory: 1 })).toBe("needs 1001 MHz cores but the host's run at 1000 MHz");
      expect(capacityShortfall(host, { cpuNumber: 4, cpuSpeed: 1000, memory: 1 })).toBe('needs 4000 MHz CPU but only 3000 MHz is free');
      expect(capacityShortfall(host, { cpuNumber: 1, cpuSpeed: 1, memory: 501 })).toBe('needs 501 MiB memory but only 500 MiB is free');
    });
  });

  it('folds used capacity from reservations and releases', () => {
    const state = stateOf(hostDecider, [
      hostAdded,
      reserved('a', 1, 1000, 100),
      reserved('b', 2, 500, 200),
      reserved('a', 2, 1000, 300),
      { type: 'HostCapacityReleased', data: { hostId: 'h1', instanceId: 'b', cpuNumber: 2, cpuSpeed: 500, memory: 200 } },
    ]);
    expect(state.kind === 'host' && [state.usedCpu, state.usedMemory, reservedInstanceIds(state)]).toEqual([2000, 300, ['a']]);
  });
});
