import { describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS,
  configStream,
  configurationDecider,
  configurationEntries,
  effectiveSetting,
  type ConfigEvent,
  type ConfigKeyName,
} from '../../../domain/config/index.js';
import { stateOf } from './support.js';
import { given } from '../../support/given.js';

const updated = (name: ConfigKeyName, value: string, zoneId: string | null = null): ConfigEvent => ({
  type: 'ConfigurationUpdated',
  data: { name, value, zoneId },
});

describe('configuration registry', () => {
  it('has the CloudStack defaults', () => {
    const defaults = Object.fromEntries(Object.entries(CONFIG_KEYS).map(([name, def]) => [name, def.default]));
    expect(defaults).toEqual({
      'vm.allocation.algorithm': 'random',
      'capacity.skipcounting.hours': 3600,
      'allow.user.expunge.recover.vm': false,
      'unmanage.vm.preserve.nics': false,
      'remote.kvm.instance.disks.copy.timeout': 30,
      'convert.vmware.instance.to.kvm.timeout': 3,
      'convert.vmware.instance.to.kvm.extra.params.allowed': false,
      'convert.vmware.instance.to.kvm.extra.params.allowed.list': [],
      'enable.dynamic.scale.vm': false,
      'vmsnapshot.max': 10,
      'expunge.delay': 86400,
      'expunge.interval': 86400,
      'ping.interval': 60,
      'ping.timeout': 2.5,
      'user.vm.denied.details': ['rootdisksize', 'cpuOvercommitRatio', 'memoryOvercommitRatio', 'Message.ReservedCapacityFreed.Flag'],
      'user.vm.readonly.details': ['dataDiskController', 'rootDiskController'],
      'vm.instancename.flag': false,
      'instance.name': 'VM',
      'vm.destroy.forcestop': false,
      'host.capacityType.to.order.clusters': 'CPU',
      'host.capacityType.to.order.clusters.cputomemoryweight': 0.5,
      'custom.diskoffering.size.min': 1,
      'custom.diskoffering.size.max': 1024,
      'storage.max.volume.size': 2000,
      'storage.overprovisioning.factor': 2,
      'instance.lease.enabled': false,
      'instance.lease.scheduler.interval': 3600,
      'instance.lease.eventscheduler.interval': 86400,
      'instance.lease.expiryevent.daysbefore': 7,
      'usage.timezone': 'UTC',
    });
  });
  it('names the global and zone streams', () => {
    expect(configStream()).toBe('config-global');
    expect(configStream(null)).toBe('config-global');
    expect(configStream('z1')).toBe('config-zone-z1');
  });
});

describe('UpdateConfiguration', () => {
  it.each([
    ['vm.allocation.algorithm', 'FirstFit', 'firstfit'],
    ['vm.allocation.algorithm', 'userconcentratedpod_random', 'userconcentratedpod_random'],
    ['allow.user.expunge.recover.vm', 'TRUE', 'true'],
    ['expunge.delay', '0', '0'],
    ['expunge.interval', ' +60 ', '60'],
    ['user.vm.denied.details', 'a, b ,a', 'a,b'],
    ['user.vm.readonly.details', '', ''],
    ['instance.name', 'CLOUD', 'CLOUD'],
    ['vm.destroy.forcestop', 'false', 'false'],
    ['host.capacityType.to.order.clusters', 'combined', 'COMBINED'],
    ['host.capacityType.to.order.clusters.cputomemoryweight', '.25', '0.25'],
    ['instance.lease.enabled', 'true', 'true'],
  ] as const)('sets %s from %j to %j', (name, raw, normalized) => {
    given(configurationDecider).when({ type: 'UpdateConfiguration', name, value: raw }).then([updated(name, normalized)]);
  });
  it('sets a zone-scoped key for a zone', () => {
    given(configurationDecider)
      .when({ type: 'UpdateConfiguration', name: 'enable.dynamic.scale.vm', value: 'true', zoneId: 'z1' })
      .then([updated('enable.dynamic.scale.vm', 'true', 'z1')]);
  });
  it('is a no-op when the stored value is unchanged', () => {
    given(configurationDecider, [updated('expunge.delay', '60')]).when({ type: 'UpdateConfiguration', name: 'expunge.delay', value: '060' }).then([]);
  });
  it('rejects an unknown key', () => {
    given(configurationDecider).when({ type: 'UpdateConfiguration', name: 'no.such.key', value: '1' }).then('BAD_USER_INPUT', { field: 'name' });
  });
  it.each([
    ['allow.user.expunge.recover.vm', 'yes'],
    ['expunge.delay', '-1'],
    ['expunge.delay', '1.5'],
    ['expunge.delay', 'soon'],
    ['expunge.delay', '99999999999'],
    ['expunge.interval', '0'],
    ['vm.allocation.algorithm', 'roundrobin'],
    ['host.capacityType.to.order.clusters', 'DISK'],
    ['host.capacityType.to.order.clusters.cputomemoryweight', '1.5'],
    ['host.capacityType.to.order.clusters.cputomemoryweight', 'half'],
    ['user.vm.denied.details', 'a,,b'],
    ['instance.name', 'my-cloud'],
    ['instance.name', 'a b'],
    ['instance.name', ''],
    // It becomes part of a libvirt domain name and of the agents' command lines.
    ["instance.name", "it's"],
    ['instance.name', '$(id)'],
    ['instance.name', 'a/b'],
    ['instance.lease.expiryevent.daysbefore', '0'],
  ] as const)('rejects %s = %j', (name, value) => {
    given(configurationDecider).when({ type: 'UpdateConfiguration', name, value }).then('BAD_USER_INPUT', { field: 'value' });
  });
  it('rejects a non-string value', () => {
    given(configurationDecider).when({ type: 'UpdateConfiguration', name: 'expunge.delay', value: 5 as unknown as string }).then('BAD_USER_INPUT', { field: 'value' });
  });
  it('rejects a zone value for a global-only key', () => {
    given(configurationDecider)
      .when({ type: 'UpdateConfiguration', name: 'vm.allocation.algorithm', value: 'firstfit', zoneId: 'z1' })
      .then('BAD_USER_INPUT', { field: 'zoneId', message: 'Configuration vm.allocation.algorithm can only be set globally, not for zone z1' });
  });
  it('rejects an empty zone id', () => {
    given(configurationDecider).when({ type: 'UpdateConfiguration', name: 'enable.dynamic.scale.vm', value: 'true', zoneId: ' ' }).then('BAD_USER_INPUT', { field: 'zoneId' });
  });
});

describe('ResetConfiguration', () => {
  it('removes an override so the default applies again', () => {
    const state = given(configurationDecider, [updated('expunge.delay', '60')])
      .when({ type: 'ResetConfiguration', name: 'expunge.delay' })
      .then([{ type: 'ConfigurationReset', data: { name: 'expunge.delay', zoneId: null } }]);
    expect(effectiveSetting('expunge.delay', state)).toBe(86400);
  });
  it('is a no-op without an override', () => {
    given(configurationDecider).when({ type: 'ResetConfiguration', name: 'expunge.delay' }).then([]);
  });
  it('rejects an unknown key and a zone reset of a global-only key', () => {
    given(configurationDecider).when({ type: 'ResetConfiguration', name: 'nope' }).then('BAD_USER_INPUT', { field: 'name' });
    given(configurationDecider).when({ type: 'ResetConfiguration', name: 'expunge.delay', zoneId: 'z1' }).then('BAD_USER_INPUT', { field: 'zoneId' });
  });
});

describe('effectiveSetting', () => {
  const global = stateOf(configurationDecider, [
    updated('enable.dynamic.scale.vm', 'true'),
    updated('vm.allocation.algorithm', 'firstfit'),
    updated('user.vm.denied.details', 'a,b'),
    updated('host.capacityType.to.order.clusters.cputomemoryweight', '0.3'),
  ]);
  const zone = stateOf(configurationDecider, [updated('enable.dynamic.scale.vm', 'false', 'z1')]);
  const empty = configurationDecider.initialState;

  it('falls back to typed defaults', () => {
    expect(effectiveSetting('enable.dynamic.scale.vm', empty)).toBe(false);
    expect(effectiveSetting('expunge.delay', empty)).toBe(86400);
    expect(effectiveSetting('user.vm.readonly.details', empty)).toEqual(['dataDiskController', 'rootDiskController']);
    expect(effectiveSetting('instance.name', empty)).toBe('VM');
  });
  it('prefers global over default and zone over global', () => {
    expect(effectiveSetting('enable.dynamic.scale.vm', global)).toBe(true);
    expect(effectiveSetting('enable.dynamic.scale.vm', global, zone)).toBe(false);
    expect(effectiveSetting('enable.dynamic.scale.vm', global, empty)).toBe(true);
    expect(effectiveSetting('vm.allocation.algorithm', global, zone)).toBe('firstfit');
    expect(effectiveSetting('user.vm.denied.details', global)).toEqual(['a', 'b']);
    expect(effectiveSetting('host.capacityType.to.order.clusters.cputomemoryweight', global)).toBe(0.3);
  });
  it('decodes an empty list as no items', () => {
    expect(effectiveSetting('user.vm.denied.details', stateOf(configurationDecider, [updated('user.vm.denied.details', '')]))).toEqual([]);
  });
  it('ignores a zone value for a global-only key', () => {
    const odd = { values: { 'expunge.delay': '5' } };
    expect(effectiveSetting('expunge.delay', empty, odd)).toBe(86400);
  });
});

describe('configurationEntries', () => {
  it('lists every key with its effective value and source', () => {
    const global = stateOf(configurationDecider, [updated('enable.dynamic.scale.vm', 'true'), updated('expunge.delay', '10')]);
    const zone = stateOf(configurationDecider, [updated('enable.dynamic.scale.vm', 'false', 'z1')]);
    const entries = configurationEntries(global, zone);
    expect(entries).toHaveLength(Object.keys(CONFIG_KEYS).length);
    const pick = (name: string) => entries.find((e) => e.name === name);
    expect(pick('enable.dynamic.scale.vm')).toMatchObject({ value: 'false', source: 'zone', defaultValue: 'false', scopes: ['global', 'zone'] });
    expect(pick('expunge.delay')).toMatchObject({ value: '10', source: 'global', type: 'integer' });
    expect(pick('user.vm.readonly.details')).toMatchObject({ value: 'dataDiskController,rootDiskController', source: 'default' });
  });
});
