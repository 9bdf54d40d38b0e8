// CloudStack's rules for a VMware → KVM conversion (behaviour §4.7), each refusal with its message:
// given the hosts, pools and guest, when the rule is applied, then the choice or the refusal.
import { describe, expect, it } from 'vitest';
import {
  checkCoversSource,
  checkExtraParams,
  checkSourceStopped,
  checkVmwareNics,
  selectConversionHost,
  selectImportHost,
  selectTemporaryPool,
  vmwareMessages,
  type ConversionHostFacts,
  type ConversionPoolFacts,
} from '../../../domain/instance/vmware-conversion.js';
import { isRejection, type Rejection } from '../../../domain/shared/decider.js';

const cluster = { id: 'cl-1', zoneId: 'z-1' };
const host = (id: string, fields: Partial<ConversionHostFacts> = {}): ConversionHostFacts => ({
  id,
  name: `name-${id}`,
  zoneId: 'z-1',
  clusterId: 'cl-1',
  status: 'Up',
  resourceState: 'Enabled',
  capabilities: ['instance.conversion'],
  ...fields,
});
const pool = (id: string, fields: Partial<ConversionPoolFacts> = {}): ConversionPoolFacts => ({
  id,
  name: `pool-${id}`,
  zoneId: 'z-1',
  scope: 'ZONE',
  type: 'NFS',
  clusterId: null,
  hostId: null,
  path: `/mnt/${id}`,
  ...fields,
});
const first = () => 0;
const refusal = (result: unknown): Rejection => {
  expect(isRejection(result), `expected a refusal, got ${JSON.stringify(result)}`).toBe(true);
  return result as Rejection;
};

describe('checkExtraParams (checkExtraParamsAllowed)', () => {
  it('given no extra parameters, then nothing is passed whatever the settings', () => {
    expect(checkExtraParams(null, false, [])).toEqual([]);
    expect(checkExtraParams('  ', false, [])).toEqual([]);
  });
  it('given allowed parameters in the list, then the tokens pass in order with their values', () => {
    expect(checkExtraParams('--mac 00:50:56:aa:bb:cc:network:br0 -v --compressed', true, ['mac', 'v', 'compressed'])).toEqual(['--mac', '00:50:56:aa:bb:cc:network:br0', '-v', '--compressed']);
  });
  it.each([
    ['extra parameters are not allowed', '-v', false, ['v'], vmwareMessages.extraParamsDisabled],
    ['the allowed list is empty', '-v', true, [' '], vmwareMessages.extraParamsListEmpty],
    ['a parameter is not in the allowed list', '-v --root=/dev/sda', true, ['v'], 'The parameter root is not allowed by the administrator'],
  ] as const)('given %s, then BAD_USER_INPUT in CloudStack\'s words', (_case, params, allowed, list, message) => {
    expect(refusal(checkExtraParams(params, allowed, list))).toMatchObject({ code: 'BAD_USER_INPUT', message, field: 'extraParams' });
  });
});

describe('selectConversionHost (selectKVMHostForConversionInCluster)', () => {
  it('given no host named, then an Up, Enabled host of the destination cluster with virt-v2v', () => {
    const hosts = [host('a', { capabilities: [] }), host('b', { status: 'Down' }), host('c', { clusterId: 'cl-2' }), host('d')];
    expect(selectConversionHost(null, hosts, cluster, first)).toMatchObject({ id: 'd' });
  });
  it('given a named Disabled host of another cluster in the zone, then it converts', () => {
    expect(selectConversionHost('x', [host('x', { resourceState: 'Disabled', clusterId: 'cl-2' })], cluster, first)).toMatchObject({ id: 'x' });
  });
  it.each([
    ['the named host is unknown', 'nope', [host('a')], 'BAD_USER_INPUT', vmwareMessages.convertHostUnknown('nope')],
    ['the named host is in maintenance', 'a', [host('a', { resourceState: 'Maintenance' })], 'INVALID_STATE', 'Cannot perform the conversion on the host name-a as the host is in Maintenance state'],
    ['the named host is not Up', 'a', [host('a', { status: 'Disconnected' })], 'INVALID_STATE', 'Cannot perform the conversion on the host name-a as it is not running'],
    ['the named host is in another zone', 'a', [host('a', { zoneId: 'z-2' })], 'BAD_USER_INPUT', 'Cannot perform the conversion on the host name-a as it is not in the same zone as the destination cluster'],
    ['the named host has no virt-v2v', 'a', [host('a', { capabilities: ['snapshot.memory'] })], 'INVALID_STATE', vmwareMessages.noVirtV2v('name-a')],
    ['no host of the cluster has virt-v2v', null, [host('a', { capabilities: [] })], 'INVALID_STATE', 'Could not find any suitable KVM host in cluster cl-1 to perform the instance conversion'],
  ] as const)('given %s, then it is refused', (_case, id, hosts, code, message) => {
    expect(refusal(selectConversionHost(id, hosts, cluster, first))).toMatchObject({ code, message });
  });
});

describe('selectImportHost (selectKVMHostForImportingInCluster)', () => {
  it('given no host named, then the conversion host when it can import, else a host of the cluster', () => {
    expect(selectImportHost(null, [host('a'), host('b')], cluster, host('b'), first)).toMatchObject({ id: 'b' });
    expect(selectImportHost(null, [host('a'), host('b', { clusterId: 'cl-2' })], cluster, host('b', { clusterId: 'cl-2' }), first)).toMatchObject({ id: 'a' });
  });
  it.each([
    ['the named host is unknown', 'nope', [host('a')], 'BAD_USER_INPUT', vmwareMessages.importHostUnknown('nope')],
    ['the named host is Disabled', 'a', [host('a', { resourceState: 'Disabled' })], 'INVALID_STATE', 'Cannot import the converted instance on the host name-a as it is not in Enabled state'],
    ['the named host is Down', 'a', [host('a', { status: 'Down' })], 'INVALID_STATE', 'Cannot import the converted instance on the host name-a as it is not running'],
    ['the named host is in another cluster', 'a', [host('a', { clusterId: 'cl-2' })], 'BAD_USER_INPUT', 'Cannot import the converted instance on the host name-a as it is not in the same cluster as the destination cluster'],
    ['no host of the cluster is Up', null, [host('a', { status: 'Down' })], 'INVALID_STATE', 'Could not find any suitable KVM host in cluster cl-1 to import the converted instance'],
  ] as const)('given %s, then it is refused', (_case, id, hosts, code, message) => {
    expect(refusal(selectImportHost(id, hosts, cluster, host('a'), first))).toMatchObject({ code, message });
  });
});

describe('selectTemporaryPool (selectInstanceConversionTemporaryLocation)', () => {
  const hosts = [host('a'), host('b'), host('o', { clusterId: 'cl-2' })];
  it('given no pool named, then the first NFS pool both hosts reach', () => {
    const pools = [pool('local', { scope: 'HOST', type: 'local', hostId: 'a' }), pool('other', { scope: 'CLUSTER', clusterId: 'cl-2' }), pool('nfs', { scope: 'CLUSTER', clusterId: 'cl-1' })];
    expect(selectTemporaryPool(null, pools, hosts, cluster, hosts[0]!, hosts[1]!)).toMatchObject({ id: 'nfs' });
  });
  it('given the conversion host\'s local pool and the same host importing, then that pool', () => {
    expect(selectTemporaryPool('local', [pool('local', { scope: 'HOST', type: 'local', hostId: 'a' })], hosts, cluster, hosts[0]!, hosts[0]!)).toMatchObject({ id: 'local' });
  });
  it.each([
    ['the pool is unknown', 'nope', [pool('p')], 'a', 'a', vmwareMessages.poolUnknown('nope')],
    ['the pool is another cluster\'s', 'p', [pool('p', { scope: 'CLUSTER', clusterId: 'cl-2' })], 'a', 'a', 'Cannot use the storage pool pool-p for the instance conversion as it is not in the scope of the cluster cl-1'],
    ['the pool is in the cluster, the conversion host not', 'p', [pool('p', { scope: 'CLUSTER', clusterId: 'cl-1' })], 'o', 'a', 'Cannot use the storage pool pool-p for the instance conversion as the host name-o for conversion is in a different cluster'],
    ['a local pool with another host importing', 'l', [pool('l', { scope: 'HOST', type: 'local', hostId: 'a' })], 'a', 'b', vmwareMessages.localPoolHosts],
    ['a zone pool that is not NFS or shared', 'p', [pool('p', { type: 'local' })], 'a', 'a', vmwareMessages.poolType('pool-p')],
    ['no pool named and no NFS pool in scope', null, [pool('l', { scope: 'HOST', type: 'local', hostId: 'a' })], 'a', 'a', vmwareMessages.noTemporaryPool('cl-1')],
  ] as const)('given %s, then it is refused', (_case, id, pools, convert, importing, message) => {
    const by = (hostId: string) => hosts.find((h) => h.id === hostId)!;
    expect(refusal(selectTemporaryPool(id, pools, hosts, cluster, by(convert), by(importing)))).toMatchObject({ message, field: 'convertInstancePoolId' });
  });
});

describe('checkCoversSource (validateRequestedResourceAtLeastSource)', () => {
  it('given an offering at least the source, then it passes (an unknown speed is not compared)', () => {
    expect(checkCoversSource({ cpuNumber: 2, cpuSpeed: 1000, memory: 1024 }, { cpuNumber: 2, cpuSpeed: 0, memory: 1024 })).toBeNull();
  });
  it.each([
    ['fewer CPUs', { cpuNumber: 1, cpuSpeed: 1000, memory: 4096 }, 'The requested CPU number (1) is less than the source VM CPU number (2)'],
    ['a slower CPU', { cpuNumber: 2, cpuSpeed: 500, memory: 4096 }, 'The requested CPU speed (500) is less than the source VM CPU speed (1000)'],
    ['less memory', { cpuNumber: 2, cpuSpeed: 1000, memory: 1024 }, 'The requested Memory (1024) is less than the source VM Memory (2048)'],
  ] as const)('given %s than the source, then it is refused', (_case, requested, message) => {
    expect(refusal(checkCoversSource(requested, { cpuNumber: 2, cpuSpeed: 1000, memory: 2048 }))).toMatchObject({ code: 'BAD_USER_INPUT', message, field: 'serviceOfferingId' });
  });
});

describe('checkSourceStopped: no clone without vCenter', () => {
  it('given a powered-off guest, then it passes; a running one is refused saying why', () => {
    expect(checkSourceStopped({ name: 'web', powerState: 'PowerOff' }, '10.0.0.5')).toBeNull();
    const refused = refusal(checkSourceStopped({ name: 'web', powerState: 'PowerOn' }, '10.0.0.5'));
    expect(refused).toMatchObject({ code: 'INVALID_STATE', field: 'name' });
    expect(refused.message).toMatch(/^VM web might be on standalone host 10\.0\.0\.5 and is Running, cannot be imported: without vCenter there is no clone/);
  });
});

describe('checkVmwareNics (checkNetworkingBeforeConvertingVmwareInstance)', () => {
  const nics = [{ nicId: '0', macAddress: '00:50:56:aa:bb:01' }, { nicId: '1', macAddress: '00:50:56:aa:bb:02' }];
  const map = [{ nic: '0', network: 'n1' }, { nic: '1', network: 'n2' }];
  const held = (networkId: string, mac: string) => networkId === 'n2' && mac === '00:50:56:aa:bb:02';
  it('given one network per NIC and free MACs, then it passes', () => {
    expect(checkVmwareNics('web', nics, map, false, () => false)).toBeNull();
  });
  it('given a MAC taken on its network and forced, then it passes (that NIC gets a new MAC)', () => {
    expect(checkVmwareNics('web', nics, map, true, held)).toBeNull();
  });
  it('given fewer networks than NICs, then it is refused', () => {
    expect(refusal(checkVmwareNics('web', nics, map.slice(0, 1), false, () => false))).toMatchObject({ code: 'BAD_USER_INPUT', message: 'Different number of nics found on instance web: 2 vs 1 nics provided' });
  });
  it('given a MAC taken on its network without forced, then CONFLICT', () => {
    expect(refusal(checkVmwareNics('web', nics, map, false, held))).toMatchObject({
      code: 'CONFLICT',
      field: 'forced',
      message: 'NIC 1 with MAC address 00:50:56:aa:bb:02 already exists on network n2 and forced flag is disabled. Retry with forced flag enabled if a new MAC address to be generated.',
    });
  });
});
