import { describe, expect, it } from 'vitest';
import { instanceDecider } from '../../../domain/instance/index.js';
import { AT, GiB, ID, cmd, debian, deploy, eventsOf, instanceOf, nic1, small, stateOf } from './fixtures.js';

describe('evolve', () => {
  it('starts from no instance and ignores everything but a deployment until one exists', () => {
    expect(instanceDecider.initialState).toEqual({ exists: false });
    const orphan = eventsOf(deploy(), cmd.start()).slice(-1);
    expect(stateOf(orphan)).toEqual({ exists: false });
  });

  it('holds every field of the API’s VirtualMachine, plus the aggregate’s own bookkeeping', () => {
    const instance = instanceOf(eventsOf(deploy({ group: 'web', leaseDuration: 1, leaseExpiryAction: 'STOP', leaseFeatureEnabled: true }), cmd.start(), cmd.startOk()));
    expect(instance).toStrictEqual({
      exists: true,
      id: ID.vm,
      name: 'web-1',
      displayName: 'Web server',
      instanceName: 'i-alice-web-1',
      state: 'Running',
      zoneId: ID.zone,
      hostId: ID.host1,
      lastHostId: ID.host1,
      hypervisorType: 'KVM',
      serviceOfferingId: small.id,
      serviceOffering: small,
      templateId: debian.id,
      template: debian,
      osTypeId: debian.osTypeId,
      accountId: ID.account,
      domainId: ID.domain,
      group: 'web',
      cpuNumber: 1,
      cpuSpeed: 500,
      memory: 512,
      deleteProtection: false,
      haEnabled: false,
      dynamicallyScalable: true,
      leaseDuration: 1,
      leaseExpiryAction: 'STOP',
      leaseExpiryDate: '2025-03-02T10:00:00.000Z',
      leaseExecution: 'PENDING',
      leaseActionJobId: null,
      details: {},
      userData: null,
      nics: [nic1],
      volumes: [
        {
          id: ID.root,
          name: 'ROOT-web-1',
          type: 'ROOT',
          size: 2 * GiB,
          storagePoolId: ID.pool,
          diskOfferingId: null,
          templateId: debian.id,
          state: 'Ready',
          deleteProtection: false,
        },
      ],
      affinityGroupIds: [],
      created: AT,
      startVmOnDeploy: false,
      everStarted: true,
      vmSnapshotChain: { links: [], currentId: null },
      vmSnapshotIds: [],
      vmSnapshotCount: 0,
      expunged: false,
      pending: null,
      powerSettledAt: AT,
    });
  });

  it('tracks the host through start, migration and stop (lastHostId := hostId when it starts and when it stops)', () => {
    const steps = [deploy(), cmd.start(), cmd.startOk(), cmd.migrate(), cmd.migrateOk(), cmd.stop(), cmd.stopOk()] as const;
    const hosts = steps.map((_, i) => {
      const instance = instanceOf(eventsOf(...steps.slice(0, i + 1)));
      return [instance.state, instance.hostId, instance.lastHostId];
    });
    expect(hosts).toEqual([
      ['Stopped', null, null],
      ['Starting', null, null],
      ['Running', ID.host1, ID.host1],
      ['Migrating', ID.host1, ID.host1],
      ['Running', ID.host2, ID.host1],
      ['Stopping', ID.host2, ID.host1],
      ['Stopped', null, ID.host2],
    ]);
  });

  it('follows the root volume from Allocated through Ready, Destroy and back', () => {
    const steps = [deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.destroy(), cmd.recover(), cmd.destroy(), cmd.expunge(), cmd.expunged()] as const;
    const rootStates = steps.map((_, i) => instanceOf(eventsOf(...steps.slice(0, i + 1))).volumes[0]?.state);
    expect(rootStates).toEqual(['Allocated', 'Allocated', 'Ready', 'Ready', 'Ready', 'Destroy', 'Ready', 'Destroy', 'Destroy', 'Expunged']);
  });
});
