import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceEvent } from '../../../domain/instance/index.js';
import {
  AT,
  GiB,
  ID,
  custom,
  debian,
  deploy,
  domainAdmin,
  history,
  instanceOf,
  nic1,
  nic2,
  owner,
  rootAdmin,
  rootCreated,
  small,
  stranger,
  usage,
  vmUsage,
} from './fixtures.js';
import { given } from '../../support/given.js';

const rootVolume = {
  id: ID.root,
  name: 'ROOT-web-1',
  type: 'ROOT',
  size: 2 * GiB,
  storagePoolId: ID.pool,
  diskOfferingId: null,
  templateId: debian.id,
  state: 'Allocated',
  deleteProtection: false,
} as const;

function deployedEvent(fields: Record<string, unknown> = {}): InstanceEvent {
  return {
    type: 'InstanceDeployed',
    data: {
      instanceId: ID.vm,
      name: 'web-1',
      displayName: 'Web server',
      instanceName: 'i-alice-web-1',
      group: null,
      accountId: ID.account,
      domainId: ID.domain,
      zoneId: ID.zone,
      hypervisorType: 'KVM',
      serviceOffering: small,
      cpuNumber: 1,
      cpuSpeed: 500,
      memory: 512,
      template: debian,
      nics: [nic1],
      volumes: [rootVolume],
      affinityGroupIds: [],
      userData: null,
      details: {},
      haEnabled: false,
      dynamicallyScalable: true,
      lease: { duration: null, expiryAction: null, expiryDate: null },
      startVm: false,
      requestedHostId: null,
      jobId: ID.deployJob,
      created: AT,
      state: 'Stopped',
      ...fields,
    },
  } as InstanceEvent;
}

describe('DeployInstance', () => {
  it('creates a Stopped instance with VM.CREATE and one VOLUME.CREATE per volume (startVm=false)', () => {
    given(instanceDecider).when(deploy()).then([deployedEvent(), vmUsage('VM.CREATE'), rootCreated()]);
  });

  it('with startVm asks to start in the same decision, on the explicit host of a root admin', () => {
    given(instanceDecider)
      .when(deploy({ startVm: true, hostId: ID.host2, caller: rootAdmin }))
      .then([
        deployedEvent({ startVm: true, requestedHostId: ID.host2 }),
        vmUsage('VM.CREATE'),
        rootCreated(),
        {
          type: 'InstanceStartRequested',
          data: { instanceId: ID.vm, jobId: ID.deployJob, requestedHostId: ID.host2, considerLastHost: true, lastHostId: null, state: 'Starting' },
        },
      ]);
  });

  it("with startVm confines a root admin's first start to the cluster it names", () => {
    given(instanceDecider)
      .when(deploy({ startVm: true, clusterId: ID.cluster, caller: rootAdmin }))
      .then([
        deployedEvent({ startVm: true }),
        vmUsage('VM.CREATE'),
        rootCreated(),
        {
          type: 'InstanceStartRequested',
          data: { instanceId: ID.vm, jobId: ID.deployJob, requestedHostId: null, requestedClusterId: ID.cluster, considerLastHost: true, lastHostId: null, state: 'Starting' },
        },
      ]);
  });

  it('describes data volumes, NICs, lease and details, and writes VOLUME.CREATE for every volume in order', () => {
    const data = { id: ID.data, name: 'DATA-web-1', size: 5 * GiB, storagePoolId: ID.pool, diskOfferingId: ID.diskOffering };
    const state = given(instanceDecider)
      .when(
        deploy({
          dataVolumes: [data],
          nics: [nic1, nic2],
          group: 'web',
          userData: 'I2Nsb3VkLWNvbmZpZw==',
          details: { rootDiskController: 'virtio' },
          affinityGroupIds: ['ag-1'],
          leaseDuration: 10,
          leaseExpiryAction: 'DESTROY',
          leaseFeatureEnabled: true,
        }),
      )
      .then([
        deployedEvent({
          group: 'web',
          userData: 'I2Nsb3VkLWNvbmZpZw==',
          details: { rootDiskController: 'virtio' },
          affinityGroupIds: ['ag-1'],
          nics: [nic1, nic2],
          volumes: [rootVolume, { ...data, type: 'DATADISK', templateId: null, state: 'Allocated', deleteProtection: false }],
          lease: { duration: 10, expiryAction: 'DESTROY', expiryDate: '2025-03-11T10:00:00.000Z' },
        }),
        vmUsage('VM.CREATE'),
        rootCreated(),
        usage('VOLUME.CREATE', { resourceId: ID.data, resourceName: 'DATA-web-1', offeringId: ID.diskOffering, size: 5 * GiB }),
      ]);
    expect(state).toMatchObject({ leaseDuration: 10, leaseExpiryAction: 'DESTROY', leaseExpiryDate: '2025-03-11T10:00:00.000Z', group: 'web' });
  });

  describe('lease (behaviour §3.3, §3.4)', () => {
    const leaseOf = (events: readonly InstanceEvent[]) => {
      const instance = instanceOf(events);
      return [instance.leaseDuration, instance.leaseExpiryAction, instance.leaseExpiryDate];
    };
    const offeringLease = { duration: 30, expiryAction: 'STOP' } as const;

    it('applies none while instance.lease.enabled is off, whatever the request or the offering says', () => {
      expect(leaseOf(given(instanceDecider).when(deploy({ leaseDuration: 5, leaseExpiryAction: 'DESTROY', offeringLease })).accepted())).toEqual([null, null, null]);
      expect(leaseOf(given(instanceDecider).when(deploy({ leaseDuration: -1, leaseFeatureEnabled: false })).accepted())).toEqual([null, null, null]);
      expect(leaseOf(given(instanceDecider).when(deploy({ leaseDuration: 36_500, leaseFeatureEnabled: false })).accepted())).toEqual([null, null, null]);
    });

    it.each([-5, -2, 0, 2.5, 36_501, 99_999])('refuses a duration of %j while it is off too, with the same message', (leaseDuration) => {
      const message = 'Invalid leaseduration: must be a natural number (>=1) or -1, max supported value is 36500';
      given(instanceDecider).when(deploy({ leaseDuration, leaseExpiryAction: 'STOP', leaseFeatureEnabled: false })).then('BAD_USER_INPUT', { message, field: 'leaseDuration' });
      given(instanceDecider).when(deploy({ leaseDuration })).then('BAD_USER_INPUT', { message, field: 'leaseDuration' });
    });

    it.each([false, true])('refuses an unknown expiry action whether or not it is on (%j)', (leaseFeatureEnabled) => {
      given(instanceDecider)
        .when(deploy({ leaseDuration: 5, leaseExpiryAction: 'SHELVE' as 'STOP', leaseFeatureEnabled }))
        .then('BAD_USER_INPUT', { message: 'Invalid value configured for leaseexpiryaction, valid values are: STOP, DESTROY', field: 'leaseExpiryAction' });
    });

    it.each([
      [-2, 'STOP', 'leaseDuration'],
      [0, 'STOP', 'leaseDuration'],
      [null, 'STOP', 'leaseDuration'],
      [36_501, 'STOP', 'leaseDuration'],
      [2.5, 'STOP', 'leaseDuration'],
      [20, null, 'leaseExpiryAction'],
    ] as const)('refuses (%j, %j) when it is on', (leaseDuration, leaseExpiryAction, field) => {
      const message = field === 'leaseDuration' ? 'Invalid leaseduration: must be a natural number (>=1) or -1, max supported value is 36500' : 'Provide values for both: leaseduration and leaseexpiryaction';
      given(instanceDecider).when(deploy({ leaseDuration, leaseExpiryAction, leaseFeatureEnabled: true })).then('BAD_USER_INPUT', { message, field });
    });

    it("takes the request's lease, else the offering's; -1 or nothing at all is no lease", () => {
      const on = { leaseFeatureEnabled: true } as const;
      expect(leaseOf(given(instanceDecider).when(deploy({ ...on, leaseDuration: 20, leaseExpiryAction: 'DESTROY', offeringLease })).accepted())).toEqual([20, 'DESTROY', '2025-03-21T10:00:00.000Z']);
      expect(leaseOf(given(instanceDecider).when(deploy({ ...on, offeringLease })).accepted())).toEqual([30, 'STOP', '2025-03-31T10:00:00.000Z']);
      expect(leaseOf(given(instanceDecider).when(deploy({ ...on, leaseDuration: -1, offeringLease })).accepted())).toEqual([null, null, null]);
      expect(leaseOf(given(instanceDecider).when(deploy({ ...on, leaseDuration: -1 })).accepted())).toEqual([null, null, null]);
      expect(leaseOf(given(instanceDecider).when(deploy(on)).accepted())).toEqual([null, null, null]);
    });
  });


  it('puts the chosen compute and its details on VM usage for a customized offering', () => {
    const details = { cpuNumber: 4, cpuSpeed: 1000, memory: 4096 };
    given(instanceDecider)
      .when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 4, memory: 4096 } }))
      .then([
        deployedEvent({ serviceOffering: custom, cpuNumber: 4, cpuSpeed: 1000, memory: 4096 }),
        vmUsage('VM.CREATE', { offeringId: custom.id, details }),
        rootCreated(),
      ]);
  });

  it('defaults the hostname to VM-<id>, the display name to the hostname and the instance name to i-<account>-<id>-VM', () => {
    const instance = instanceOf(given(instanceDecider).when(deploy({ name: null, displayName: null, instanceName: null })).accepted());
    expect([instance.name, instance.displayName, instance.instanceName]).toEqual([
      `VM-${ID.vm}`,
      `VM-${ID.vm}`,
      `i-${ID.account}-${ID.vm}-VM`,
    ]);
  });

  it('takes HA from the offering and dynamic scalability from template, offering and the deploy flag', () => {
    const ha = instanceOf(given(instanceDecider).when(deploy({ serviceOffering: { ...small, offerHa: true } })).accepted());
    expect(ha.haEnabled).toBe(true);
    const optedOut = instanceOf(given(instanceDecider).when(deploy({ dynamicScalingEnabled: false })).accepted());
    expect(optedOut.dynamicallyScalable).toBe(false);
    const fixedTemplate = instanceOf(
      given(instanceDecider).when(deploy({ template: { ...debian, dynamicallyScalable: false } })).accepted(),
    );
    expect(fixedTemplate.dynamicallyScalable).toBe(false);
  });

  it('refuses a second deployment on the same stream', () => {
    given(instanceDecider, history.stopped()).when(deploy()).then('CONFLICT');
    given(instanceDecider, history.expunged()).when(deploy()).then('CONFLICT');
  });

  it.each([
    ['1web', 'starts with a digit'],
    ['-web', 'starts with a hyphen'],
    ['web-', 'ends with a hyphen'],
    ['web_1', 'has an underscore'],
    ['web.example', 'has a dot'],
    ['', 'is empty'],
    ['a'.repeat(64), 'is 64 characters long'],
  ])('refuses the hostname %j (%s)', (name) => {
    given(instanceDecider)
      .when(deploy({ name }))
      .then('BAD_USER_INPUT', {
        field: 'name',
        message:
          "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit",
      });
  });

  it.each(['a', 'A-1', 'a'.repeat(63), 'web-01-b'])('accepts the hostname %j', (name) => {
    const events = given(instanceDecider).when(deploy({ name })).accepted();
    expect(instanceOf(events).name).toBe(name);
  });

  it('refuses user data that is not base64', () => {
    for (const userData of ['%%% not base64 %%%', 'abc', 'ab=c']) {
      given(instanceDecider).when(deploy({ userData })).then('BAD_USER_INPUT', { message: 'User data is not base64 encoded', field: 'userData' });
    }
  });

  it('refuses a placement for a deployment that does not start', () => {
    const message = 'hostId and clusterId place the first start of a deployment; they need startVm true';
    given(instanceDecider).when(deploy({ hostId: ID.host1, caller: rootAdmin })).then('BAD_USER_INPUT', { message, field: 'hostId' });
    given(instanceDecider).when(deploy({ clusterId: ID.cluster, caller: rootAdmin })).then('BAD_USER_INPUT', { message, field: 'clusterId' });
  });

  it('lets only a root admin place the instance on a host', () => {
    const message = 'Parameter hostid can only be specified by a Root Admin, permission denied';
    given(instanceDecider).when(deploy({ hostId: ID.host1, caller: owner })).then('FORBIDDEN', { message, field: 'hostId' });
    given(instanceDecider).when(deploy({ hostId: ID.host1, caller: domainAdmin })).then('FORBIDDEN', { message, field: 'hostId' });
    const clusterMessage = 'Parameter clusterid can only be specified by a Root Admin, permission denied';
    given(instanceDecider).when(deploy({ clusterId: ID.cluster, caller: owner })).then('FORBIDDEN', { message: clusterMessage, field: 'clusterId' });
    given(instanceDecider).when(deploy({ clusterId: ID.cluster, caller: domainAdmin })).then('FORBIDDEN', { message: clusterMessage, field: 'clusterId' });
  });

  it('refuses a user deploying for another account', () => {
    given(instanceDecider).when(deploy({ caller: stranger })).then('FORBIDDEN', { field: 'account' });
  });

  it('refuses custom compute on a fixed offering', () => {
    given(instanceDecider)
      .when(deploy({ customCompute: { cpuNumber: 2 } }))
      .then('BAD_USER_INPUT', {
        message: 'The cpu cores of this offering id:so-small is not customizable. This is predefined in the template.',
        field: 'details.cpuNumber',
      });
    given(instanceDecider)
      .when(deploy({ customCompute: { memory: 2048 } }))
      .then('BAD_USER_INPUT', {
        message: 'The memory of this offering id:so-small is not customizable. This is predefined in the template.',
        field: 'details.memory',
      });
    given(instanceDecider)
      .when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 1024, cpuSpeed: 3000 } }))
      .then('BAD_USER_INPUT', {
        message: 'The cpu speed of this offering id:so-custom is not customizable. This is predefined in the template.',
        field: 'details.cpuSpeed',
      });
  });

  it('requires the open parts of a customized offering within its bounds', () => {
    given(instanceDecider)
      .when(deploy({ serviceOffering: custom }))
      .then('BAD_USER_INPUT', {
        message: 'Need to specify custom parameter values cpu, cpu speed and memory when using custom offering',
        field: 'details',
      });
    const cpu = { message: 'Invalid cpu cores value, specify a value between 1 and 8', field: 'details.cpuNumber' };
    given(instanceDecider).when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 9, memory: 1024 } })).then('BAD_USER_INPUT', cpu);
    given(instanceDecider).when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 0, memory: 1024 } })).then('BAD_USER_INPUT', cpu);
    given(instanceDecider).when(deploy({ serviceOffering: custom, customCompute: { memory: 1024 } })).then('BAD_USER_INPUT', cpu);
    const memory = { message: 'Invalid memory value, specify a value between 512 and 16384', field: 'details.memory' };
    given(instanceDecider).when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 256 } })).then('BAD_USER_INPUT', memory);
    given(instanceDecider).when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 16385 } })).then('BAD_USER_INPUT', memory);
    given(instanceDecider)
      .when(deploy({ serviceOffering: { ...custom, cpuSpeed: null }, customCompute: { cpuNumber: 2, memory: 1024 } }))
      .then('BAD_USER_INPUT', { message: 'Invalid cpu speed value, specify a value between 1 and 2147483647', field: 'details.cpuSpeed' });
  });

  it('accepts the bounds of a customized offering themselves', () => {
    const events = given(instanceDecider).when(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 8, memory: 512 } })).accepted();
    expect(instanceOf(events)).toMatchObject({ cpuNumber: 8, cpuSpeed: 1000, memory: 512 });
  });

  it('refuses a root volume smaller than its template', () => {
    given(instanceDecider)
      .when(deploy({ rootVolume: { id: ID.root, name: 'ROOT-web-1', size: GiB, storagePoolId: ID.pool, diskOfferingId: null } }))
      .then('BAD_USER_INPUT', { message: `Root disk size [${GiB}] is smaller than the template size [${2 * GiB}]`, field: 'rootDiskSize' });
  });

  it('refuses repeated volume or NIC ids and more than one default NIC', () => {
    const again = { id: ID.root, name: 'DATA', size: GiB, storagePoolId: null, diskOfferingId: null };
    given(instanceDecider).when(deploy({ dataVolumes: [again] })).then('BAD_USER_INPUT', { field: 'volumes' });
    given(instanceDecider).when(deploy({ nics: [nic1, { ...nic2, id: ID.nic1 }] })).then('BAD_USER_INPUT', { field: 'nics' });
    given(instanceDecider)
      .when(deploy({ nics: [nic1, { ...nic2, isDefault: true }] }))
      .then('BAD_USER_INPUT', { message: 'Only one NIC can be the default NIC; marked default: nic-1, nic-2', field: 'nics' });
  });

  it('refuses two NICs on one network, naming networkIds and the network', () => {
    given(instanceDecider)
      .when(deploy({ nics: [nic1, { ...nic2, networkId: nic1.networkId }] }))
      .then('BAD_USER_INPUT', { message: `Network ${nic1.networkId} is named more than once in networkIds; an instance has one NIC per network`, field: 'networkIds' });
  });

  it('refuses a lease when the command time cannot be read', () => {
    given(instanceDecider).when(deploy({ at: 'yesterday', leaseDuration: 3, leaseExpiryAction: 'STOP', leaseFeatureEnabled: true })).then('BAD_USER_INPUT', { field: 'at' });
  });
});

describe('commands on an instance that does not exist', () => {
  it('are NOT_FOUND', () => {
    given(instanceDecider)
      .when({ type: 'StartInstance', instanceId: ID.vm, at: AT, caller: owner, jobId: 'j', considerLastHost: true })
      .then('NOT_FOUND', { message: `Unable to find virtual machine with id ${ID.vm}` });
    given(instanceDecider).when({ type: 'RecordAgentReport', instanceId: ID.vm, at: AT, hostId: ID.host1, powerState: 'running' }).then('NOT_FOUND');
  });

  it('are NOT_FOUND for a command addressed to another instance id', () => {
    given(instanceDecider, history.stopped())
      .when({ type: 'StartInstance', instanceId: 'other', at: AT, caller: owner, jobId: 'j', considerLastHost: true })
      .then('NOT_FOUND');
  });

  it("are NOT_FOUND for a user of another account, who cannot see the instance", () => {
    given(instanceDecider, history.stopped())
      .when({ type: 'StartInstance', instanceId: ID.vm, at: AT, caller: stranger, jobId: 'j', considerLastHost: true })
      .then('NOT_FOUND');
  });
});

describe('AbandonDeployment', () => {
  const abandon = { type: 'AbandonDeployment', instanceId: ID.vm, jobId: ID.deployJob, reason: 'the process died', at: AT } as const;
  const abandoned: InstanceEvent = { type: 'InstanceDeploymentAbandoned', data: { instanceId: ID.vm, jobId: ID.deployJob, reason: 'the process died' } };

  it('closes the stream of an instance that was never recorded', () => {
    const state = given(instanceDecider).when(abandon).then([abandoned]);
    expect(state).toEqual({ exists: false, abandoned: { jobId: ID.deployJob, reason: 'the process died' } });
  });

  it('is refused once the instance was recorded, so a recorded deployment is never undone', () => {
    given(instanceDecider, [deployedEvent()]).when(abandon).then('CONFLICT', { message: `Virtual machine ${ID.vm} already exists` });
  });

  it('is idempotent: a second abandon appends nothing', () => {
    given(instanceDecider, [abandoned]).when(abandon).then([]);
  });

  it('a deployment still under way can no longer record the instance', () => {
    given(instanceDecider, [abandoned]).when(deploy()).then('CONFLICT', { message: `The deployment of virtual machine ${ID.vm} was abandoned: the process died` });
  });
});
