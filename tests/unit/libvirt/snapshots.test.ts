import { describe, expect, it } from 'vitest';
import { isSnapshotNotFound, memorySnapshotXml, parseSnapshotInfo, parseSnapshotNames, snapshotStateSize } from '../../../adapters/hypervisor/libvirt/snapshots.js';
import { VirshOutputError } from '../../../adapters/hypervisor/libvirt/virsh-output.js';

// What libvirt 9.0 printed on the testbed (LC_ALL=C).
const info = (state: string, parent = '-', current = 'yes') => `Name:           i-2-3-VM_VS_20240101000000
Domain:         i-2-3-VM
Current:        ${current}
State:          ${state}
Location:       internal
Parent:         ${parent}
Children:       0
Descendants:    0
Metadata:       yes
`;

describe('libvirt VM snapshots', () => {
  it('writes the memory snapshot XML CloudStack gives snapshot-create, the description escaped', () => {
    expect(memorySnapshotXml('i-2-3-VM_VS_20240101000000', null)).toBe(
      "<domainsnapshot>\n  <name>i-2-3-VM_VS_20240101000000</name>\n  <memory snapshot=\"internal\"/>\n</domainsnapshot>\n",
    );
    expect(memorySnapshotXml('s', 'a <b> & "c"')).toContain('<description>a &lt;b&gt; &amp; "c"</description>');
  });

  it('reads snapshot-info: a running (or paused) state is a memory snapshot, shutoff a disk-only one', () => {
    expect(parseSnapshotInfo(info('running'))).toEqual({ name: 'i-2-3-VM_VS_20240101000000', kind: 'DiskAndMemory', parent: null, current: true });
    expect(parseSnapshotInfo(info('paused', 'i-2-3-VM_VS_20231231000000', 'no'))).toMatchObject({ kind: 'DiskAndMemory', parent: 'i-2-3-VM_VS_20231231000000', current: false });
    expect(parseSnapshotInfo(info('shutoff'))).toMatchObject({ kind: 'Disk' });
    // An external disk-only snapshot is none this driver takes: not guessed at.
    expect(() => parseSnapshotInfo(info('disk-snapshot'))).toThrow(VirshOutputError);
    expect(() => parseSnapshotInfo('Name: x\n')).toThrow(VirshOutputError);
  });

  it('reads snapshot-list --name', () => {
    expect(parseSnapshotNames('a\nb\n\n')).toEqual(['a', 'b']);
    expect(parseSnapshotNames('\n')).toEqual([]);
  });

  it("takes a snapshot's size from qemu-img info's vm-state-size", () => {
    const json = JSON.stringify({
      format: 'qcow2',
      snapshots: [
        { id: '1', name: 'mem', 'vm-state-size': 1_363_148, 'date-sec': 1 },
        { id: '2', name: 'disk', 'vm-state-size': 0, 'date-sec': 2 },
      ],
    });
    expect(snapshotStateSize(json, 'mem')).toBe(1_363_148);
    expect(snapshotStateSize(json, 'disk')).toBe(0);
    expect(snapshotStateSize(json, 'other')).toBeUndefined();
    expect(snapshotStateSize(JSON.stringify({ format: 'qcow2' }), 'mem')).toBeUndefined();
    expect(() => snapshotStateSize('not json', 'mem')).toThrow(SyntaxError);
    expect(() => snapshotStateSize(JSON.stringify({ snapshots: [{ name: 'mem' }] }), 'mem')).toThrow(/vm-state-size/);
  });

  it("knows libvirt's words for a snapshot it does not have", () => {
    expect(isSnapshotNotFound("error: Domain snapshot not found: no domain snapshot with matching name 'x'")).toBe(true);
    expect(isSnapshotNotFound('error: failed to get domain')).toBe(false);
  });
});
