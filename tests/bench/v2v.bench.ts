// Issue 17's figure: the conversion of the testbed's VMware guest (a debootstrapped Debian 12, 1.1 GiB
// virtual, ~550 MiB allocated) to KVM on kvm-a through the libvirt driver, split by step as the
// agent reports them: prepare (the pre-checks until the export starts), export (the .vmx and VMDKs
// from the VMware host at 127.0.0.5 over SSH into the temporary location), convert (virt-v2v under TCG:
// appliance boot, inspection, the guest's initrd rebuild, the copy to qcow2) and import (the qcow2
// moved into kvm-a's storage and checked). Median of BENCH_V2V_RUNS (3) conversions, 3-4 min each on
// this 2-core machine. `--only v2v` runs it alone; it needs the libvirt testbed only, not the broker
// or the main job, and starts it when none runs.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ProgressUpdate } from '../../adapters/hypervisor/driver.js';
import { LibvirtDriver } from '../../adapters/hypervisor/libvirt/libvirt-driver.js';
import { readLibvirtTestbed, testbedHost, testbedHostConfig } from '../testbed/libvirt-testbed.js';
import { testbedFile } from '../integration/libvirt/world.js';
import { spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';

const RUNS = Number(process.env['BENCH_V2V_RUNS'] ?? 3);
const STEPS = ['prepare', 'export', 'convert', 'import', 'total'] as const;

export async function v2vFigures({ report }: SuiteContext): Promise<void> {
  const script = join(import.meta.dirname, '..', 'testbed', 'libvirt.sh');
  let file = testbedFile();
  const ownTestbed = file === undefined;
  if (ownTestbed) file = execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  const testbed = readLibvirtTestbed(file!);
  const vmware = testbed.vmware;
  if (!vmware) throw new Error(`${file} describes no VMware host: restart the testbed`);
  const host = testbedHost(testbed, 'kvm-a');
  const driver = new LibvirtDriver({ config: { ...testbedHostConfig(host, randomUUID(), { privateKey: true }), conversion: { virtV2v: 'virt-v2v', env: vmware.conversionEnv } }, peers: () => undefined });
  const times: Record<(typeof STEPS)[number], number[]> = { prepare: [], export: [], convert: [], import: [], total: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      const instance = { instanceId: randomUUID(), instanceName: `v2v-bench-${run}` };
      const outputName = randomUUID();
      const started = performance.now();
      let exportStarted: number | undefined;
      let convertStarted: number | undefined;
      const onProgress = (update: ProgressUpdate) => {
        const now = performance.now();
        if (update.stage === 'export') exportStarted ??= now;
        if (update.stage === 'convert') convertStarted ??= now;
      };
      const converted = await driver.convertVmwareGuest(
        instance,
        {
          source: { kind: 'esxi-ssh', host: vmware.address, port: vmware.sshPort, username: vmware.username, vmxPath: vmware.guests.real },
          password: vmware.password,
          tempPath: vmware.tempPath,
          outputName,
          timeoutMs: 3 * 3_600_000,
          extraParams: [],
        },
        onProgress,
      );
      const convertedAt = performance.now();
      const volumeId = randomUUID();
      await driver.importConvertedDisks(instance, { tempPath: vmware.tempPath, outputName, disks: [{ volumeId, sourcePath: converted.disks[0]!.path, toPath: null }] }, () => undefined);
      const importedAt = performance.now();
      times.prepare.push((exportStarted ?? started) - started);
      times.export.push((convertStarted ?? convertedAt) - (exportStarted ?? started));
      times.convert.push(convertedAt - (convertStarted ?? convertedAt));
      times.import.push(importedAt - convertedAt);
      times.total.push(importedAt - started);
      execFileSync('rm', ['-f', join(host.storagePath, `${volumeId}.qcow2`)]);
    }
    for (const step of STEPS) report(spreadFigure(`VMware guest → KVM on kvm-a (1.1 GiB Debian 12, TCG): ${step}, median of ${RUNS}`, 's', times[step].map((ms) => ms / 1000)));
  } finally {
    await driver.close();
    if (ownTestbed) execFileSync('bash', [script, 'stop'], { stdio: 'inherit' });
  }
}
