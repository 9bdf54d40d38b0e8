import { describe, expect, it } from 'vitest';
import { datastoreOf, diskPath, parseVmdkDescriptor, parseVmx, vmwareGuestOf, vmxDisks, vmxNics, type ResolvedDisk } from '../../../adapters/hypervisor/vmware/vmx.js';
import { localVmx } from '../../../adapters/hypervisor/vmware/esxi-ssh-source.js';

// As ESXi 7 writes them (trimmed), and as the testbed's guests are.
const WEB_VMX = `.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "14"
displayName = "web |22front|22 01"
guestOS = "debian10-64"
memSize = "2048"
numvcpus = "2"
cpuid.coresPerSocket = "2"
# a comment line
scsi0.present = "TRUE"
scsi0.virtualDev = "pvscsi"
scsi0:1.present = "TRUE"
scsi0:1.deviceType = "scsi-hardDisk"
scsi0:1.fileName = "web_1.vmdk"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "web.vmdk"
sata0.present = "TRUE"
sata0:0.present = "TRUE"
sata0:0.deviceType = "cdrom-image"
sata0:0.fileName = "/vmfs/volumes/datastore1/iso/debian.iso"
sata0:1.present = "TRUE"
sata0:1.fileName = "/vmfs/volumes/datastore2/web/web_2.vmdk"
ide0:0.present = "FALSE"
ide0:0.fileName = "old.vmdk"
NVME0:0.present = "TRUE"
nvme0:0.fileName = "fast.vmdk"
ethernet1.present = "TRUE"
ethernet1.virtualDev = "e1000e"
ethernet1.networkName = "Backend"
ethernet1.addressType = "generated"
ethernet1.generatedAddress = "00:0C:29:12:34:56"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:AA:BB:CC"
ethernet2.present = "FALSE"
`;

const FLAT_DESCRIPTOR = `# Disk DescriptorFile
version=1
CID=120636fb
parentCID=ffffffff
createType="vmfs"

# Extent description
RW 2254848 VMFS "web-flat.vmdk"

# The Disk Data Base
#DDB
ddb.adapterType = "lsilogic"
`;

describe('parseVmx and the devices it names', () => {
  it('reads keys case-insensitively, unquotes values and decodes |XX escapes', () => {
    const vmx = parseVmx(WEB_VMX);
    expect(vmx.get('displayname')).toBe('web "front" 01');
    expect(vmx.get('memsize')).toBe('2048');
    expect(vmx.get('nvme0:0.present')).toBe('TRUE');
  });

  it('finds the present hard disks in virt-v2v order (bus, controller, unit), not CD-ROMs or absent ones', () => {
    const disks = vmxDisks(parseVmx(WEB_VMX));
    expect(disks.map((disk) => `${disk.bus}${disk.controller}:${disk.unit} ${disk.fileName}`)).toEqual([
      'scsi0:0 web.vmdk',
      'scsi0:1 web_1.vmdk',
      'sata0:1 /vmfs/volumes/datastore2/web/web_2.vmdk',
      'nvme0:0 fast.vmdk',
    ]);
    expect(disks[0]?.controllerModel).toBe('pvscsi');
  });

  it('finds the present NICs by port with MAC (static or generated), adapter type and port group', () => {
    expect(vmxNics(parseVmx(WEB_VMX))).toEqual([
      { port: 0, mac: '00:50:56:aa:bb:cc', adapterType: 'vmxnet3', networkName: 'VM Network' },
      { port: 1, mac: '00:0c:29:12:34:56', adapterType: 'e1000e', networkName: 'Backend' },
    ]);
  });

  it('reads a flat (ESXi) descriptor: capacity from its extents, no parent', () => {
    const descriptor = parseVmdkDescriptor(FLAT_DESCRIPTOR);
    expect(descriptor).toMatchObject({ createType: 'vmfs', hasParent: false, capacity: 2254848 * 512 });
    expect(descriptor.extents).toEqual([{ access: 'RW', sectors: 2254848, type: 'VMFS', fileName: 'web-flat.vmdk' }]);
  });

  it('tells a snapshot delta disk by its parent, and refuses what is not a descriptor', () => {
    const delta = FLAT_DESCRIPTOR.replace('parentCID=ffffffff', 'parentCID=120636fb\nparentFileNameHint="web.vmdk"').replace('VMFS "web-flat.vmdk"', 'VMFSSPARSE "web-000001-delta.vmdk"');
    expect(parseVmdkDescriptor(delta).hasParent).toBe(true);
    expect(() => parseVmdkDescriptor('KDMV\u0001binary sparse extent')).toThrow(/not a VMDK descriptor/);
  });

  it('makes the listing entry: name from displayName, power state from the lock, disks with capacity, controller and datastore', () => {
    const vmxPath = '/vmfs/volumes/datastore1/web/web.vmx';
    const vmx = parseVmx(WEB_VMX);
    const disks: ResolvedDisk[] = vmxDisks(vmx).map((disk, i) => ({
      ...disk,
      path: diskPath(vmxPath, disk.fileName),
      descriptor: i === 0 ? parseVmdkDescriptor(FLAT_DESCRIPTOR) : null,
    }));
    const guest = vmwareGuestOf(vmxPath, vmx, disks, true);
    expect(guest).toMatchObject({ name: 'web "front" 01', powerState: 'PowerOn', cpuNumber: 2, cpuCoresPerSocket: 2, memory: 2048, osDisplayName: 'debian10-64', vmxPath });
    expect(guest.disks[0]).toEqual({
      diskId: '0',
      capacity: 2254848 * 512,
      controller: 'scsi',
      controllerUnit: 0,
      label: 'scsi0:0',
      imagePath: '/vmfs/volumes/datastore1/web/web.vmdk',
      position: 0,
      datastoreName: 'datastore1',
      format: 'vmdk',
    });
    expect(guest.disks[2]).toMatchObject({ capacity: null, controller: 'sata', imagePath: '/vmfs/volumes/datastore2/web/web_2.vmdk', datastoreName: 'datastore2' });
    expect(guest.nics.map((nic) => [nic.nicId, nic.macAddress, nic.adapterType, nic.networkName])).toEqual([
      ['0', '00:50:56:aa:bb:cc', 'vmxnet3', 'VM Network'],
      ['1', '00:0c:29:12:34:56', 'e1000e', 'Backend'],
    ]);
    expect(vmwareGuestOf(vmxPath, parseVmx('displayName = "x"\n'), [], false)).toMatchObject({ powerState: 'PowerOff', cpuNumber: 1, memory: 32 });
    expect(datastoreOf('/srv/elsewhere/x.vmdk')).toBe(null);
  });

  it('refuses a non-numeric memSize rather than guessing', () => {
    expect(() => vmwareGuestOf('/vmfs/volumes/ds/x/x.vmx', parseVmx('memSize = "lots"\n'), [], false)).toThrow(/memsize = "lots" is not a number/);
  });

  it('writes the exported copy of the .vmx with each disk named by its base name, escapes kept', () => {
    const vmxPath = '/vmfs/volumes/datastore1/web/web.vmx';
    const vmx = parseVmx(WEB_VMX);
    const disks: ResolvedDisk[] = vmxDisks(vmx).map((disk) => ({ ...disk, path: diskPath(vmxPath, disk.fileName), descriptor: null }));
    const copy = parseVmx(localVmx(vmx, disks));
    expect(copy.get('sata0:1.filename')).toBe('web_2.vmdk');
    expect(copy.get('sata0:0.filename')).toBe('/vmfs/volumes/datastore1/iso/debian.iso');
    expect(copy.get('displayname')).toBe('web "front" 01');
  });
});
