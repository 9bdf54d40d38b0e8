// Names and texts the API takes, across every aggregate that stores one: no C0/C1 control character, no
// DEL, no empty display name. One rule (domain/config/validation.ts), held by every decider.
import { describe, expect, it } from 'vitest';
import { accountDecider, domainDecider } from '../../../domain/account/index.js';
import { optionalName, optionalText, requireName } from '../../../domain/config/validation.js';
import { hostDecider } from '../../../domain/host/index.js';
import { instanceDecider } from '../../../domain/instance/index.js';
import { networkDecider } from '../../../domain/network/index.js';
import { offeringDecider } from '../../../domain/offering/index.js';
import type { Decider, DomainEvent, RejectionCode } from '../../../domain/shared/decider.js';
import { storagePoolDecider } from '../../../domain/storage/index.js';
import { vmScheduleDecider, type VMScheduleCommand, type VMScheduleEvent } from '../../../domain/schedule/index.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { templateDecider } from '../../../domain/template/index.js';
import { zoneDecider, type ZoneEvent } from '../../../domain/zone/index.js';
import { cmd, deploy, history } from '../instance/fixtures.js';
import { given, type RejectionDetail } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';

/** NUL, BEL, an ANSI colour escape, DEL, NEL (C1) and the one-character CSI (C1). */
const CONTROLS = ['\u0000', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u009b31m'] as const;

const createSchedule: VMScheduleCommand = {
  type: 'CreateVMSchedule',
  scheduleId: 's1',
  instanceId: 'vm-1',
  instanceName: 'web-1',
  accountId: 'a1',
  domainId: 'd1',
  action: 'STOP',
  schedule: '0 2 * * *',
  timeZone: 'Europe/Paris',
  description: null,
  startDate: null,
  endDate: null,
  enabled: true,
  at,
};
const scheduleCreated = ((): VMScheduleEvent => {
  const decision = vmScheduleDecider.decide(createSchedule, vmScheduleDecider.initialState);
  if (isRejection(decision) || !decision[0]) throw new Error('the schedule fixture is refused');
  return decision[0];
})();

describe('the shared name and text rules', () => {
  it.each(CONTROLS)('refuse a name, an optional name and a text holding %j, naming the field and the character', (control) => {
    for (const check of [requireName, optionalName, optionalText]) {
      const rejection = check(`web${control}1`, 'displayName', 'Display name');
      expect(rejection).toMatchObject({ code: 'BAD_USER_INPUT', field: 'displayName' });
      expect(rejection?.message).toContain(`U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    }
  });

  it('keep printable text, accents and other scripts', () => {
    for (const text of ['web-1', 'Serveur de données', 'ウェブ', 'a b', 'ÿ ¡ ©']) {
      expect(requireName(text, 'name', 'Name')).toBeUndefined();
      expect(optionalText(text, 'displayText', 'displayText')).toBeUndefined();
    }
  });

  it('let an optional name be absent, but not empty', () => {
    expect(optionalName(undefined, 'group', 'Group name')).toBeUndefined();
    expect(optionalName(null, 'group', 'Group name')).toBeUndefined();
    expect(optionalName('', 'group', 'Group name')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'group' });
    expect(optionalText('', 'displayText', 'displayText')).toBeUndefined();
  });
});

const zoneCreated: ZoneEvent = { type: 'ZoneCreated', data: { zoneId: 'z1', name: 'zone', networkType: 'Advanced', created: at } };

/** A decision on a command of any aggregate: whether it was accepted, or which rejection it was. */
interface Decided {
  accepted(): readonly DomainEvent[];
  then(code: RejectionCode, detail?: RejectionDetail): unknown;
}

interface Case {
  readonly what: string;
  readonly field: string;
  /** Decides the command with `text` in the field, on whatever history the command needs. */
  readonly decide: (text: string) => Decided;
}

/** `on(decider, history)(text => command)`: the decider fixes the command type the arrow is checked against. */
function on<C, S, E extends DomainEvent>(decider: Decider<C, S, E>, events: readonly E[]) {
  return (command: (text: string) => C) => (text: string): Decided => given(decider, events).when(command(text));
}

const cases: readonly Case[] = [
  { what: 'zone name', field: 'name', decide: on(zoneDecider, [])((name) => ({ type: 'CreateZone', zoneId: 'z1', name, at })) },
  { what: 'cluster name', field: 'name', decide: on(zoneDecider, [zoneCreated])((name) => ({ type: 'AddCluster', clusterId: 'c1', name, hypervisor: 'KVM', at })) },
  {
    what: 'host name',
    field: 'name',
    decide: on(hostDecider, [])((name) => ({ type: 'AddHost', hostId: 'h1', zoneId: 'z1', clusterId: 'c1', hypervisor: 'KVM', name, driver: 'simulator', cpuNumber: 1, cpuSpeed: 1000, memory: 1024, at })),
  },
  {
    what: 'storage pool name',
    field: 'name',
    decide: on(storagePoolDecider, [])((name) => ({ type: 'CreateStoragePool', poolId: 'p1', zoneId: 'z1', scope: 'ZONE', name, poolType: 'NFS', server: '10.0.0.2', path: '/export', capacityBytes: 1000, at })),
  },
  {
    what: 'network name',
    field: 'name',
    decide: on(networkDecider, [])((name) => ({ type: 'CreateNetwork', networkId: 'n1', zoneId: 'z1', name, networkType: 'L2', networkOfferingId: 'no-l2', at })),
  },
  {
    what: 'service offering name',
    field: 'name',
    decide: on(offeringDecider, [])((name) => ({ type: 'CreateServiceOffering', offeringId: 'o1', name, cpuNumber: 1, cpuSpeed: 500, memory: 512, leaseFeatureEnabled: false, at })),
  },
  {
    what: 'service offering display text',
    field: 'displayText',
    decide: on(offeringDecider, [])((displayText) => ({ type: 'CreateServiceOffering', offeringId: 'o1', name: 'small', displayText, cpuNumber: 1, cpuSpeed: 500, memory: 512, leaseFeatureEnabled: false, at })),
  },
  {
    what: 'disk offering display text',
    field: 'displayText',
    decide: on(offeringDecider, [])((displayText) => ({ type: 'CreateDiskOffering', offeringId: 'o1', name: 'disk', displayText, diskSize: 1024, at })),
  },
  {
    what: 'template name',
    field: 'name',
    decide: on(templateDecider, [])((name) => ({ type: 'RegisterTemplate', templateId: 't1', name, osTypeName: 'Debian GNU/Linux 12 (64-bit)', url: 'http://x/y.qcow2', format: 'QCOW2', hypervisor: 'KVM', size: 1024, at })),
  },
  {
    what: 'template display text',
    field: 'displayText',
    decide: on(templateDecider, [])((displayText) => ({ type: 'RegisterTemplate', templateId: 't1', name: 'debian', displayText, osTypeName: 'Debian GNU/Linux 12 (64-bit)', url: 'http://x/y.qcow2', format: 'QCOW2', hypervisor: 'KVM', size: 1024, at })),
  },
  {
    what: 'account name',
    field: 'name',
    decide: on(accountDecider, [])((name) => ({ type: 'CreateAccount', accountId: 'a1', domainId: 'd1', domainPath: '/', name, role: 'USER', user: { userId: 'u1', username: 'alice', apiKey: 'k'.repeat(43) }, at })),
  },
  {
    what: 'domain name',
    field: 'name',
    decide: on(domainDecider, [])((name) => ({ type: 'CreateDomain', domainId: 'd1', name, parent: { domainId: 'd0', path: '/' }, at })),
  },
  { what: 'instance display name at deploy', field: 'displayName', decide: on(instanceDecider, [])((displayName) => deploy({ displayName })) },
  { what: 'instance group at deploy', field: 'group', decide: on(instanceDecider, [])((group) => deploy({ group })) },
  { what: 'instance display name on update', field: 'displayName', decide: on(instanceDecider, history.stopped())((displayName) => cmd.update({ displayName })) },
  { what: 'instance group on update', field: 'group', decide: on(instanceDecider, history.stopped())((group) => cmd.update({ group })) },
  {
    what: 'schedule description',
    field: 'description',
    decide: on(vmScheduleDecider, [])((description) => ({ ...createSchedule, description })),
  },
  {
    what: 'schedule description on update',
    field: 'description',
    decide: on(vmScheduleDecider, [scheduleCreated])((description) => ({ type: 'UpdateVMSchedule', scheduleId: 's1', description, at })),
  },
];

describe('every name and text the API takes', () => {
  it.each(cases)('accepts a plain $what', ({ decide }) => {
    decide('plain-text').accepted();
  });

  it.each(cases.flatMap((c) => CONTROLS.map((control) => ({ ...c, control }))))('refuses a $what holding $control', ({ decide, field, control }) => {
    decide(`a${control}b`).then('BAD_USER_INPUT', { field });
  });
});

describe('instance display names', () => {
  it('refuses updateVirtualMachine(displayName: "") and keeps the display name', () => {
    given(instanceDecider, history.stopped()).when(cmd.update({ displayName: '' })).then('BAD_USER_INPUT', { field: 'displayName' });
    given(instanceDecider, history.stopped()).when(cmd.update({ displayName: '   ' })).then('BAD_USER_INPUT', { field: 'displayName' });
  });

  it('refuses an empty display name or group at deploy; absent ones default as before', () => {
    given(instanceDecider).when(deploy({ displayName: '' })).then('BAD_USER_INPUT', { field: 'displayName' });
    given(instanceDecider).when(deploy({ group: '' })).then('BAD_USER_INPUT', { field: 'group' });
    const deployed = given(instanceDecider).when(deploy({ displayName: null, group: null })).accepted();
    expect(deployed[0]?.data).toMatchObject({ displayName: 'web-1', group: null });
  });
});
