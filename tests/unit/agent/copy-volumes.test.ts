// The simulator's offline volume copy: only a stopped domain's own disks move, into the new pool's
// directory; repeating it changes nothing.
import { describe, expect, it } from 'vitest';
import { SimulatedCloud } from '../../../adapters/hypervisor/simulator/index.js';
import { H1, HOST, domain, target } from './harness.js';

describe('simulator: CopyVolumes', () => {
  it('moves a stopped domain’s disks to the new pool directory, refuses while it runs, and repeats harmlessly', async () => {
    const cloud = new SimulatedCloud();
    const driver = cloud.addHost(H1, HOST);
    const spec = domain();
    const [root] = spec.volumes;
    const copy = [{ ...root!, fromPath: '/mnt/first', toPath: '/mnt/second' }];
    await driver.startDomain(spec);
    await expect(driver.copyVolumes(target(spec), copy)).rejects.toMatchObject({ code: 'REMOTE_COMMAND_FAILED', message: expect.stringContaining('only while it is stopped') });
    expect(cloud.diskLocation(root!.volumeId)).toBeUndefined();
    await driver.stopDomain(target(spec), { forced: true, timeoutMs: 1000 });
    expect(await driver.copyVolumes(target(spec), copy)).toBe('stopped');
    expect(cloud.diskLocation(root!.volumeId)).toBe('/mnt/second');
    expect(await driver.copyVolumes(target(spec), copy)).toBe('stopped');
    expect(cloud.diskSize(root!.volumeId)).toBe(root!.size);
  });

  it('refuses a volume that is not the domain’s and a domain it does not know', async () => {
    const cloud = new SimulatedCloud();
    const driver = cloud.addHost(H1, HOST);
    const spec = domain();
    await driver.startDomain(spec);
    await driver.stopDomain(target(spec), { forced: true, timeoutMs: 1000 });
    const stranger = { volumeId: 'f0f0f0f0-0000-4000-8000-000000000001', type: 'DATADISK' as const, size: 1, templateId: null, fromPath: '/a', toPath: '/b' };
    await expect(driver.copyVolumes(target(spec), [stranger])).rejects.toMatchObject({ code: 'NOT_OWNED' });
    await expect(driver.copyVolumes({ ...target(spec), instanceName: `${spec.instanceName}x` }, [])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
