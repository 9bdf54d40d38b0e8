import { describe, expect, it } from 'vitest';
import { EXPORT_SHARE, V2vProgress, parseV2vLine } from '../../../adapters/hypervisor/libvirt/virt-v2v-output.js';

// virt-v2v 2.2 --machine-readable, as it printed converting the testbed's guest (abridged).
const RUN = `{ "message": "Setting up the source: -i vmx /tmp/x/v2vtest.vmx", "timestamp": "2026-12-07T21:41:21.394620157+00:00", "type": "message" }
[   0.0] Setting up the source: -i vmx /tmp/x/v2vtest.vmx
{ "message": "Opening the source", "timestamp": "2026-12-07T21:41:22.396481542+00:00", "type": "message" }
[   1.0] Opening the source
\u001b[0;32m[  27.1] Inspecting the source\u001b[0m
[  40.9] Checking for sufficient free disk space in the guest
[  40.9] Converting 12.15 to run on KVM
{ "message": "could not determine a way to update the configuration of Grub2", "timestamp": "2026-12-07T21:42:20.371193885+00:00", "type": "warning" }
virt-v2v: warning: could not determine a way to update the configuration of Grub2
{ "message": "The QEMU Guest Agent will be installed for this guest at first boot.", "timestamp": "2026-12-07T21:42:28.317897963+00:00", "type": "info" }
[ 130.2] Mapping filesystem data to avoid copying unused and blank areas
[ 131.0] Closing the overlay
[ 131.1] Assigning disks to buses
[ 131.1] Checking if the guest needs BIOS or UEFI to boot
[ 131.1] Setting up the destination: -o local -os /tmp/out
[ 132.4] Copying disk 1/2
0/100
\u259d   0% [----------------------------------------]
\u2590  46% [*******************---------------------]
50/100
50/100
100/100
[ 140.0] Copying disk 2/2
100/100
[ 141.4] Creating output metadata
[ 141.5] Finishing off`;

describe('virt-v2v output', () => {
  it('tells step lines, N/M progress lines, warnings and errors apart', () => {
    expect(parseV2vLine('[  27.1] Inspecting the source')).toEqual({ kind: 'step', text: 'Inspecting the source' });
    // On a pseudo-terminal the step lines come coloured.
    expect(parseV2vLine('\u001b[0;32m[  27.1] Opening the source\u001b[0m')).toEqual({ kind: 'step', text: 'Opening the source' });
    expect(parseV2vLine('37/100')).toEqual({ kind: 'progress', done: 37, of: 100 });
    expect(parseV2vLine('\u2590  46% [*******************---------------------]')).toEqual({ kind: 'progress', done: 46, of: 100 });
    expect(parseV2vLine('{ "message": "no root device", "timestamp": "x", "type": "error" }')).toEqual({ kind: 'error', text: 'no root device' });
    expect(parseV2vLine('virt-v2v: warning: x')).toEqual({ kind: 'other', text: 'virt-v2v: warning: x' });
  });

  it('turns a run into progress that starts after the export, only rises, follows the copy and ends before 100', () => {
    const progress = new V2vProgress();
    const updates = RUN.split('\n').map((line) => progress.line(line)).filter((update) => update !== null);
    const percents = updates.map((update) => update.percent);
    expect(percents[0]).toBeGreaterThan(EXPORT_SHARE);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(updates.every((update) => update.stage === 'convert')).toBe(true);
    expect(updates.map((update) => update.step)).toContain('Converting 12.15 to run on KVM');
    const copying = updates.filter((update) => update.step === 'Copying disk 1/2').map((update) => update.percent);
    expect(copying[copying.length - 1]).toBeGreaterThan(copying[0]!);
    expect(percents[percents.length - 1]).toBe(99);
    expect(progress.warnings).toEqual(['could not determine a way to update the configuration of Grub2']);
    expect(progress.errors).toEqual([]);
  });
});
