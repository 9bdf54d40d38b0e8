// The VMware conversion's clean-up on a real libvirt host (issue 17): ImportConvertedDisks with no
// disks only removes what a conversion left in its temporary location, so a domain of the instance's
// name on the import host (the very reason an import of the disks fails there) must not stop it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { libvirtTestbedLocation } from '../../testbed/libvirt-testbed.js';
import { openSnapshotBed, type SnapshotBed } from '../../testbed/snapshot-bed.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const location = libvirtTestbedLocation();

describe.skipIf(!location.present)('the conversion clean-up on the libvirt testbed', () => {
  let bed: SnapshotBed;
  beforeAll(() => {
    bed = openSnapshotBed(location.path);
  });
  afterAll(async () => {
    await bed?.dispose();
  });

  it('given a domain of the instance\'s name on the host, when its disks are imported, then that is refused; when cleaned up, then the conversion\'s files are gone all the same', async () => {
    const tempPath = bed.description.vmware?.tempPath;
    if (!tempPath) throw new Error('the testbed describes no VMware host: restart it (tests/testbed/libvirt.sh start)');
    const spec = bed.newSpec();
    await bed.driver.startDomain(spec);
    const outputName = randomUUID();
    const left = [`${tempPath}/${outputName}-sda`, `${tempPath}/${outputName}.xml`];
    // What a conversion leaves, owned by the hosts' user as virt-v2v's output is.
    await bed.inHost(['sh', '-c', 'touch "$@" && chown "$(stat -c %U "$(dirname "$1")")" "$@"', 'sh', ...left]);
    const noProgress = () => undefined;

    await expect(
      bed.driver.importConvertedDisks(spec, { tempPath, outputName, disks: [{ volumeId: randomUUID(), sourcePath: left[0]!, toPath: null }] }, noProgress),
    ).rejects.toThrow(/a domain of that name is already defined/);
    expect(await bed.driver.importConvertedDisks(spec, { tempPath, outputName, disks: [] }, noProgress)).toEqual([]);
    expect((await bed.inHost(['ls', '-A', tempPath])).stdout).not.toContain(outputName);
  });
});
