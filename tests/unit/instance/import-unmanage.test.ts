// Given/when/then of importUnmanagedInstance and unmanageVirtualMachine on the instance aggregate
// (behaviour §4.5 steps 7 and 11, §4.8): the import's outcome and usage, the unmanage's preconditions
// and its usage events, each recorded once.
import { describe, expect, it } from 'vitest';
import { instanceDecider, type ImportInstance, type InstanceCommand, type InstanceEvent } from '../../../domain/instance/index.js';
import { given } from '../../support/given.js';
import { AT, GiB, ID, cmd, debian, deploy, eventsOf, history, nic1, nicAssigned, nicRemoved, owner, rootAdmin, small, usage, vmUsage, volumeDeleted } from './fixtures.js';

const IMPORT_JOB = 'job-import';
const UNMANAGE_JOB = 'job-unmanage';

function importCommand(overrides: Partial<ImportInstance> = {}): ImportInstance {
  return {
    type: 'ImportInstance',
    instanceId: ID.vm,
    at: AT,
    caller: rootAdmin,
    jobId: IMPORT_JOB,
    name: 'web-1',
    displayName: 'Web server',
    instanceName: 'legacy-web',
    accountId: ID.account,
    domainId: ID.domain,
    zoneId: ID.zone,
    hypervisorType: 'KVM',
    serviceOffering: small,
    template: debian,
    rootVolume: { id: ID.root, name: 'ROOT-web-1', size: 8 * GiB, storagePoolId: ID.pool, diskOfferingId: null },
    dataVolumes: [{ id: ID.data, name: 'DATA-web-1-1', size: 2 * GiB, storagePoolId: ID.pool, diskOfferingId: ID.diskOffering }],
    diskPositions: [1, 0],
    nics: [nic1],
    hostId: ID.host1,
    powerState: 'running',
    importedFrom: null,
    ...overrides,
  };
}

const imported = (powerState: 'running' | 'stopped'): InstanceCommand => ({ type: 'RecordImported', instanceId: ID.vm, at: AT, jobId: IMPORT_JOB, powerState });
const importFailed: InstanceCommand = { type: 'RecordImportFailed', instanceId: ID.vm, at: AT, jobId: IMPORT_JOB, reason: 'host-1: domain legacy-web is not defined' };
const unmanage = (extra: { caller?: typeof rootAdmin; preserveNics?: boolean; jobId?: string } = {}): InstanceCommand => ({
  type: 'UnmanageInstance',
  instanceId: ID.vm,
  at: AT,
  caller: extra.caller ?? rootAdmin,
  jobId: extra.jobId ?? UNMANAGE_JOB,
  preserveNics: extra.preserveNics ?? false,
});
const unmanaged: InstanceCommand = { type: 'RecordUnmanaged', instanceId: ID.vm, at: AT, jobId: UNMANAGE_JOB };

const rootOf = (size = 8 * GiB) => usage('VOLUME.CREATE', { resourceId: ID.root, resourceName: 'ROOT-web-1', templateId: debian.id, size });
const dataOf = () => usage('VOLUME.CREATE', { resourceId: ID.data, resourceName: 'DATA-web-1-1', offeringId: ID.diskOffering, size: 2 * GiB });

describe('ImportInstance', () => {
  it('records the instance busy with adopting its domain on its host, with no usage yet', () => {
    const events = given(instanceDecider).when(importCommand()).accepted();
    expect(events.map((e) => e.type)).toEqual(['InstanceImportRequested']);
    const instance = instanceDecider.evolve(instanceDecider.initialState, events[0]!);
    expect(instance).toMatchObject({
      exists: true,
      instanceName: 'legacy-web',
      state: 'Stopped',
      cpuNumber: 1,
      memory: 512,
      importedFrom: null,
      pending: { kind: 'import', jobId: IMPORT_JOB, hostId: ID.host1, diskPositions: [1, 0] },
    });
  });

  it('keeps the instance an unmanaged one continues', () => {
    const [requested] = given(instanceDecider).when(importCommand({ importedFrom: 'old-instance' })).accepted();
    expect(requested).toMatchObject({ type: 'InstanceImportRequested', data: { importedFrom: 'old-instance' } });
  });

  it.each([
    ['a user', { caller: owner }, 'FORBIDDEN', 'Cannot perform this operation, caller account [acct-alice] is not ROOT Admin.'],
    ['a hostname that is no label', { name: '9lives' }, 'BAD_USER_INPUT', /^Invalid VM hostname\./],
    ['a disk position missing', { diskPositions: [0] }, 'BAD_USER_INPUT', 'An import names 1 disk positions for 2 volumes'],
  ] as const)('refuses %s', (_what, overrides, code, message) => {
    given(instanceDecider).when(importCommand(overrides)).then(code, { message });
  });

  it('refuses an id that is an instance already', () => {
    given(instanceDecider, history.stopped()).when(importCommand()).then('CONFLICT');
  });
});

const EXTERNAL = {
  remote: { host: '10.9.0.7', port: 22, username: 'ops' },
  passwordRef: 'secret-ref-1',
  tmpPath: '/tmp',
  disks: [{ path: '/srv/vm/web.qcow2', format: 'qcow2' }, { path: '/srv/vm/web-data.raw', format: 'raw' }],
  copyTimeoutMs: 1_800_000,
};

describe('ImportInstance from an external host (behaviour §4.6 external)', () => {
  it('given an external source, then the instance is busy copying to its destination host, the source (with only the password\'s reference) in its pending import', () => {
    const [requested] = given(instanceDecider).when(importCommand({ powerState: 'stopped', external: EXTERNAL })).accepted();
    expect(requested).toMatchObject({ type: 'InstanceImportRequested', data: { hostId: ID.host1, external: EXTERNAL } });
    expect(instanceDecider.evolve(instanceDecider.initialState, requested!)).toMatchObject({ state: 'Stopped', pending: { kind: 'import', hostId: ID.host1, external: EXTERNAL } });
  });

  it.each([
    ['a running VM', { powerState: 'running' as const, external: EXTERNAL }, 'INVALID_STATE', /only stopped VMs are imported from an external host/],
    ['a source disk missing', { powerState: 'stopped' as const, external: { ...EXTERNAL, disks: [EXTERNAL.disks[0]!] } }, 'BAD_USER_INPUT', 'An import names 1 disk positions for 2 volumes'],
  ] as const)('refuses %s', (_what, overrides, code, message) => {
    given(instanceDecider).when(importCommand(overrides)).then(code, { message });
  });

  it('given the disks copied, when recorded, then Stopped with the destination as last host and a deployment\'s usage', () => {
    const state = given(instanceDecider, eventsOf(importCommand({ powerState: 'stopped', external: EXTERNAL })))
      .when(imported('stopped'))
      .then([{ type: 'InstanceImported', data: { instanceId: ID.vm, jobId: IMPORT_JOB, hostId: ID.host1, state: 'Stopped', settledAt: AT } }, vmUsage('VM.CREATE'), rootOf(), dataOf()]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null, lastHostId: ID.host1, pending: null });
  });
});

const DISK_IMAGE = { source: 'LOCAL' as const, path: '/var/lib/vmledger/local/web.qcow2' };

describe('ImportInstance of a disk image on a pool (behaviour §4.6 local/shared)', () => {
  const fromImage = (overrides: Partial<ImportInstance> = {}) => importCommand({ powerState: 'stopped', dataVolumes: [], diskPositions: [0], diskImage: DISK_IMAGE, ...overrides });

  it('given a disk image, then its file is the root volume\'s, and the import is pending on the image\'s host', () => {
    const [requested] = given(instanceDecider).when(fromImage()).accepted();
    const instance = instanceDecider.evolve(instanceDecider.initialState, requested!);
    expect(instance).toMatchObject({ state: 'Stopped', pending: { kind: 'import', hostId: ID.host1, diskImage: DISK_IMAGE } });
    expect(instance.exists && instance.volumes).toEqual([expect.objectContaining({ id: ID.root, type: 'ROOT', path: DISK_IMAGE.path, state: 'Allocated' })]);
  });

  it.each([
    ['data volumes besides it', { dataVolumes: importCommand().dataVolumes, diskPositions: [0, 1] }],
    ['a running domain', { powerState: 'running' as const }],
  ] as const)('refuses %s: a disk image is the one disk of a stopped instance', (_what, overrides) => {
    given(instanceDecider).when(fromImage(overrides)).then('BAD_USER_INPUT', { message: 'A disk image imported from shared/local storage is the only disk of a stopped instance' });
  });

  it('given the import recorded, then Stopped with the image\'s host as last host, the volume Ready on its file, and a deployment\'s usage', () => {
    const state = given(instanceDecider, eventsOf(fromImage()))
      .when(imported('stopped'))
      .then([{ type: 'InstanceImported', data: { instanceId: ID.vm, jobId: IMPORT_JOB, hostId: ID.host1, state: 'Stopped', settledAt: AT } }, vmUsage('VM.CREATE'), rootOf()]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null, lastHostId: ID.host1, pending: null, volumes: [{ path: DISK_IMAGE.path, state: 'Ready' }] });
  });
});

describe('RecordImported', () => {
  const requested = () => eventsOf(importCommand());

  it('a running domain: Running on its host, no last host; VM.CREATE, VOLUME.CREATE per disk, then a start\'s NETWORK.OFFERING.ASSIGN and VM.START', () => {
    const state = given(instanceDecider, requested())
      .when(imported('running'))
      .then([
        { type: 'InstanceImported', data: { instanceId: ID.vm, jobId: IMPORT_JOB, hostId: ID.host1, state: 'Running', settledAt: AT } },
        vmUsage('VM.CREATE'),
        rootOf(),
        dataOf(),
        nicAssigned(nic1, 1),
        vmUsage('VM.START'),
      ]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host1, lastHostId: null, pending: null });
    expect(state.exists && state.volumes.map((v) => v.state)).toEqual(['Ready', 'Ready']);
  });

  it('a stopped domain: Stopped, its host the last host; no start\'s usage', () => {
    const state = given(instanceDecider, requested())
      .when(imported('stopped'))
      .then([{ type: 'InstanceImported', data: { instanceId: ID.vm, jobId: IMPORT_JOB, hostId: ID.host1, state: 'Stopped', settledAt: AT } }, vmUsage('VM.CREATE'), rootOf(), dataOf()]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null, lastHostId: ID.host1 });
  });

  it('a power report while the domain is being adopted changes nothing: the job\'s outcome settles it', () => {
    given(instanceDecider, requested()).when(cmd.report('running')).then([]);
    given(instanceDecider, eventsOf(...runThrough(), unmanage())).when(cmd.report('stopped')).then([]);
  });

  it('is recorded once: a repeat finds no import pending', () => {
    given(instanceDecider, eventsOf(importCommand(), imported('running'))).when(imported('running')).then('INVALID_STATE');
  });

  it('a failed adoption leaves no instance (expunged), and no usage', () => {
    const state = given(instanceDecider, requested())
      .when(importFailed)
      .then([{ type: 'InstanceImportFailed', data: { instanceId: ID.vm, jobId: IMPORT_JOB, reason: 'host-1: domain legacy-web is not defined' } }]);
    expect(state).toMatchObject({ expunged: true, pending: null });
  });
});

describe('UnmanageInstance', () => {
  const requestedOn = (hostId: string) => [{ type: 'InstanceUnmanageRequested', data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, hostId, preserveNics: false } }] as InstanceEvent[];

  it('a running instance is unmanaged on its host', () => {
    given(instanceDecider, history.running()).when(unmanage()).then(requestedOn(ID.host1));
  });

  it('a stopped instance on its last host', () => {
    given(instanceDecider, eventsOf(...stoppedAfterRun())).when(unmanage()).then(requestedOn(ID.host1));
  });

  it.each([
    ['by a user', history.running, { caller: owner }, 'FORBIDDEN', /is not ROOT Admin/],
    ['while another job runs', history.starting, {}, 'INVALID_STATE', "There are pending jobs or HA tasks working on the VM: web-1, can't unmanage the VM."],
    ['a destroyed instance', history.destroyed, {}, 'INVALID_STATE', `VM with id = ${ID.vm} must be running or stopped to be unmanaged`],
    ['an instance in Error', history.error, {}, 'INVALID_STATE', `VM with id = ${ID.vm} must be running or stopped to be unmanaged`],
    ['a stopped instance that never ran (no host to keep its domain)', history.stopped, {}, 'INVALID_STATE', 'No available host to persist domain XML for Instance: i-alice-web-1'],
    ['an expunged instance', history.expunged, {}, 'NOT_FOUND', undefined],
  ] as const)('refuses %s', (_what, from, extra, code, message) => {
    given(instanceDecider, from()).when(unmanage(extra)).then(code, message === undefined ? {} : { message });
  });

});

describe('UnmanageInstance of an instance with VM snapshots (§4.8: they are deleted first)', () => {
  /** Running on host-1 with snapshots s1 ← s2 (s2 the newest). */
  const withSnapshots = () => eventsOf(...runThrough(), cmd.snapshot('s1', { memory: true }), cmd.snapshotOk('s1'), cmd.snapshot('s2', { memory: true }), cmd.snapshotOk('s2'));
  const purge: InstanceEvent = {
    type: 'InstanceVMSnapshotsPurgeRequested',
    data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, vmSnapshotIds: ['s1', 's2'], then: { action: 'unmanage', caller: rootAdmin, preserveNics: false } },
  };
  const deleted = (id: string) => cmd.snapshotOk(id, UNMANAGE_JOB);
  const types = (events: readonly InstanceEvent[]) => events.map((e) => e.type);
  const snapshotOf = (e: InstanceEvent) => (e.data as { details?: { vmSnapshotId?: string } | null }).details?.vmSnapshotId;

  it('checks the unmanage, then asks for the snapshots to be deleted before it', () => {
    given(instanceDecider, withSnapshots()).when(unmanage()).then([purge]);
  });

  it('refuses what it would refuse without snapshots, before deleting any', () => {
    given(instanceDecider, withSnapshots()).when(unmanage({ caller: owner })).then('FORBIDDEN', { message: /is not ROOT Admin/ });
    const snapshotting = eventsOf(...runThrough(), cmd.snapshot('s1', { memory: true }));
    given(instanceDecider, snapshotting).when(unmanage()).then('INVALID_STATE', { message: "There are pending jobs or HA tasks working on the VM: web-1, can't unmanage the VM." });
  });

  it('deletes them newest first, each with VMSNAPSHOT.DELETE and OFF_PRIMARY; the last one leads on to the unmanage', () => {
    given(instanceDecider, [...withSnapshots(), purge])
      .when(deleted('s2'))
      .then([{ type: 'InstanceVMSnapshotDeleted', data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, vmSnapshotId: 's2' } }, expect.objectContaining({ type: 'usage.VMSNAPSHOT.DELETE' }), expect.objectContaining({ type: 'usage.VMSNAPSHOT.OFF_PRIMARY' })]);
    const oneLeft = eventsOf(...runThrough(), cmd.snapshot('s1', { memory: true }), cmd.snapshotOk('s1'), cmd.snapshot('s2', { memory: true }), cmd.snapshotOk('s2'), unmanage(), deleted('s2'));
    const last = given(instanceDecider, oneLeft).when(deleted('s1')).accepted();
    expect(types(last)).toEqual(['InstanceVMSnapshotDeleted', 'usage.VMSNAPSHOT.DELETE', 'usage.VMSNAPSHOT.OFF_PRIMARY', 'InstanceUnmanageRequested']);
    expect(last.at(-1)).toEqual({ type: 'InstanceUnmanageRequested', data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, hostId: ID.host1, preserveNics: false } });
  });

  it('writes the snapshots\' usage once each, before the instance\'s own', () => {
    const job = eventsOf(...runThrough(), cmd.snapshot('s1', { memory: true }), cmd.snapshotOk('s1'), cmd.snapshot('s2', { memory: true }), cmd.snapshotOk('s2'), unmanage(), deleted('s2'), deleted('s1'), unmanaged);
    const after = job.slice(withSnapshots().length);
    expect(after.filter((e) => e.type.startsWith('usage.')).map((e) => [e.type, snapshotOf(e) ?? null])).toEqual([
      ['usage.VMSNAPSHOT.DELETE', 's2'],
      ['usage.VMSNAPSHOT.OFF_PRIMARY', 's2'],
      ['usage.VMSNAPSHOT.DELETE', 's1'],
      ['usage.VMSNAPSHOT.OFF_PRIMARY', 's1'],
      ['usage.VOLUME.DELETE', null],
      ['usage.NETWORK.OFFERING.REMOVE', null],
      ['usage.VM.STOP', null],
      ['usage.VM.DESTROY', null],
    ]);
    // A repeated request or outcome adds nothing.
    const purging = [...withSnapshots(), purge];
    given(instanceDecider, purging).when(unmanage()).then([]);
    given(instanceDecider, eventsOf(...runThrough(), cmd.snapshot('s1', { memory: true }), cmd.snapshotOk('s1'), cmd.snapshot('s2', { memory: true }), cmd.snapshotOk('s2'), unmanage(), deleted('s2'))).when(deleted('s2')).then([]);
  });

  it('a snapshot the host cannot delete fails the unmanage, saying so; the instance stays managed', () => {
    const state = given(instanceDecider, [...withSnapshots(), purge])
      .when(cmd.snapshotFail('s2', UNMANAGE_JOB, 'simulated SNAPSHOT failure on host host-1'))
      .then([
        {
          type: 'InstanceVMSnapshotTaskFailed',
          data: {
            instanceId: ID.vm,
            jobId: UNMANAGE_JOB,
            vmSnapshotId: 's2',
            task: 'purge',
            reason: 'Unable to delete vm snapshots for web-1, so it was not unmanaged and stays managed: simulated SNAPSHOT failure on host host-1',
            status: 'Error',
          },
        },
      ]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host1, expunged: false, pending: null, vmSnapshotCount: 2 });
    expect(state.exists && state.unmanaged).toBeFalsy();
  });
});

function runThrough(): InstanceCommand[] {
  return [deploy(), cmd.start(), cmd.startOk()];
}
function stoppedAfterRun(): InstanceCommand[] {
  return [...runThrough(), cmd.stop(), cmd.stopOk()];
}

describe('RecordUnmanaged', () => {
  it('a running instance: Expunging and gone, VOLUME.DELETE, NETWORK.OFFERING.REMOVE, VM.STOP, then VM.DESTROY', () => {
    const state = given(instanceDecider, eventsOf(...runThrough(), unmanage()))
      .when(unmanaged)
      .then([
        { type: 'InstanceUnmanaged', data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, hostId: ID.host1, from: 'Running', preserveNics: false, state: 'Expunging' } },
        volumeDeleted(ID.root, 'ROOT-web-1'),
        nicRemoved(nic1),
        vmUsage('VM.STOP'),
        vmUsage('VM.DESTROY'),
      ]);
    expect(state).toMatchObject({ state: 'Expunging', expunged: true, unmanaged: true, nicsKept: false, hostId: null, lastHostId: ID.host1, pending: null });
  });

  it('a stopped instance: no VM.STOP and no NETWORK.OFFERING.REMOVE', () => {
    given(instanceDecider, eventsOf(...stoppedAfterRun(), unmanage({ preserveNics: true })))
      .when(unmanaged)
      .then([
        { type: 'InstanceUnmanaged', data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, hostId: ID.host1, from: 'Stopped', preserveNics: true, state: 'Expunging' } },
        volumeDeleted(ID.root, 'ROOT-web-1'),
        vmUsage('VM.DESTROY'),
      ]);
  });

  it('exactly once: a repeated outcome finds the instance gone', () => {
    given(instanceDecider, eventsOf(...runThrough(), unmanage(), unmanaged)).when(unmanaged).then('NOT_FOUND');
  });

  it('a failed unmanage leaves the instance as it was, managed', () => {
    const failed: InstanceCommand = { type: 'RecordUnmanageFailed', instanceId: ID.vm, at: AT, jobId: UNMANAGE_JOB, reason: 'host-1 did not answer' };
    const state = given(instanceDecider, eventsOf(...runThrough(), unmanage()))
      .when(failed)
      .then([{ type: 'InstanceUnmanageFailed', data: { instanceId: ID.vm, jobId: UNMANAGE_JOB, reason: 'host-1 did not answer' } }]);
    expect(state).toMatchObject({ state: 'Running', expunged: false, pending: null });
  });
});
