// VMware → KVM on a libvirt host (behaviour §4.7, CloudStack's ConvertInstanceCommand and
// ImportConvertedInstanceCommand). The conversion host's agent exports the stopped guest from its
// source (the port in ../vmware/source.ts) into `<tempPath>/<name>.export/`, then runs
//   virt-v2v --root first -i vmx <export>/<vm>.vmx -o local -os <tempPath> -of qcow2 -on <name> --machine-readable [extra]
// under a pseudo-terminal (the agent gone, the channel closes and virt-v2v is hung up), with the
// configured environment (LIBGUESTFS_BACKEND=direct; force_tcg where there is no /dev/kvm), and turns
// its output into progress. `-i vmx` on a local copy rather than CloudStack's `-i ova`: an ESXi host
// has no ovftool export to give, and a .vmx with its flat VMDKs is what the datastore holds, so the
// export is a plain copy (no streamOptimized re-encoding, which took 22 s for this guest's disk here)
// and works with a password, where `-i vmx -it ssh` needs an SSH agent and key.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ConvertedDiskImport, ConvertedGuest, ImportedVolume } from '../../../domain/agent-protocol/index.js';
import { DriverError, missingConverter, type ConvertedDisksImport, type ProgressListener, type VmwareConversion } from '../driver.js';
import { VmwareSourceError, type VmwareGuestSource } from '../vmware/source.js';
import { shellCommandLine } from '../../ssh/shell-quote.js';
import type { LibvirtConversionConfig } from './config.js';
import { parseConvertedXml } from './converted-guest.js';
import { parseImageInfo } from './disk-images.js';
import { volumePath } from './domain-xml.js';
import type { HostCommands } from './host-commands.js';
import { checkCopiedVolume } from './remote-disk-copy.js';
import { EXPORT_SHARE, V2vProgress } from './virt-v2v-output.js';

/** Whether the host has virt-v2v (as configured) and nbdkit, which it needs on Debian/Ubuntu. */
export async function canConvert(commands: HostCommands, config: LibvirtConversionConfig): Promise<boolean> {
  const probe = await commands.exec(['sh', '-c', 'command -v "$1" >/dev/null && command -v nbdkit >/dev/null', 'sh', config.virtV2v], 'looking for virt-v2v and nbdkit');
  return probe.exitCode === 0;
}

/** The files of a conversion in its temporary location. */
export function conversionFiles(tempPath: string, outputName: string) {
  const dir = tempPath.replace(/\/+$/, '') || '/';
  return {
    exportDir: posix.join(dir, `${outputName}.export`),
    xml: posix.join(dir, `${outputName}.xml`),
    /** A glob for the shell: the converted disks. */
    disksGlob: `${shellCommandLine([posix.join(dir, `${outputName}-`)])}sd*`,
  };
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? 'no error output';
}

async function removeConversionOutput(commands: HostCommands, tempPath: string, outputName: string): Promise<void> {
  const files = conversionFiles(tempPath, outputName);
  await commands.exec(['sh', '-c', `rm -rf -- "$1"; rm -f -- "$2" ${files.disksGlob}`, 'sh', files.exportDir, files.xml], 'removing a conversion\'s files', { timeoutMs: 60_000 });
}

async function removeExport(commands: HostCommands, tempPath: string, outputName: string): Promise<void> {
  await commands.exec(['rm', '-rf', '--', conversionFiles(tempPath, outputName).exportDir], 'removing an export', { timeoutMs: 60_000 });
}

/** What `<name>.xml` and `qemu-img info` say of a finished conversion; null when it is not all there. */
async function readConverted(commands: HostCommands, tempPath: string, outputName: string): Promise<ConvertedGuest | null> {
  const xml = await commands.exec(['cat', '--', conversionFiles(tempPath, outputName).xml], 'reading the converted guest');
  if (xml.exitCode !== 0) return null;
  const parsed = parseConvertedXml(xml.stdout);
  const disks = [];
  for (const [position, disk] of parsed.disks.entries()) {
    const info = await commands.exec(['qemu-img', 'info', '-U', '--output=json', '--', disk.path], 'reading a converted disk');
    if (info.exitCode !== 0) return null;
    const { virtualSize, format } = parseImageInfo(info.stdout);
    disks.push({ position, path: disk.path, virtualSize, format, bus: disk.bus });
  }
  return disks.length === 0 ? null : { disks, bootMode: parsed.bootMode };
}

export interface ConversionContext {
  readonly commands: HostCommands;
  readonly hostId: string;
  readonly config: LibvirtConversionConfig;
  /** The source the command's kind names, logged in. */
  readonly source: VmwareGuestSource;
}

/**
 * Exports and converts the guest (see the module comment). A finished conversion found in place is
 * success; anything half-done from an earlier run is removed first.
 */
export async function convertVmwareGuest(context: ConversionContext, conversion: VmwareConversion, progress: ProgressListener): Promise<ConvertedGuest> {
  const { commands, hostId, config, source } = context;
  const { tempPath, outputName } = conversion;
  if (!(await canConvert(commands, config))) throw new DriverError('UNSUPPORTED', missingConverter(hostId));
  const done = await readConverted(commands, tempPath, outputName);
  if (done !== null) {
    await removeExport(commands, tempPath, outputName);
    progress({ stage: 'convert', step: 'Converted', percent: 100 });
    return done;
  }
  const vmName = posix.basename(conversion.source.vmxPath, '.vmx');
  await removeConversionOutput(commands, tempPath, outputName);
  const started = Date.now();
  const left = () => conversion.timeoutMs - (Date.now() - started);
  try {
    const { exportDir } = conversionFiles(tempPath, outputName);
    await commands.run(['mkdir', '-p', '--', exportDir], 'making the export directory', { code: 'REMOTE_COMMAND_FAILED' });
    const step = `Exporting ${vmName} from ${conversion.source.host}`;
    progress({ stage: 'export', step, percent: 0 });
    const exported = await source
      .exportGuest(
        conversion.source.vmxPath,
        {
          // Written with holes where the source has zeros: a flat extent is mostly empty.
          receive: async (name: string, data: Readable) => {
            const path = posix.join(exportDir, name);
            const result = await commands.exec(['dd', `of=${path}`, 'bs=1M', 'iflag=fullblock', 'conv=sparse', 'status=none'], `writing ${name}`, { stdin: data, timeoutMs: Math.max(1_000, left()) });
            if (result.exitCode !== 0) throw new DriverError('REMOTE_COMMAND_FAILED', `Export OVA for the VM ${vmName} failed: writing ${name} on host ${hostId}: ${firstLine(result.stderr)}`);
          },
        },
        (bytes, total) => progress({ stage: 'export', step, percent: total === 0 ? EXPORT_SHARE : (EXPORT_SHARE * bytes) / total }),
        Math.max(1_000, left()),
      )
      .catch((error: unknown) => {
        if (error instanceof VmwareSourceError) throw new DriverError('REMOTE_COMMAND_FAILED', error.message, error.detail);
        throw error;
      });
    progress({ stage: 'export', step: `Exported ${vmName}`, percent: EXPORT_SHARE });
    if (left() <= 0) throw new DriverError('TIMEOUT', `The conversion of VM ${vmName} did not finish within ${conversion.timeoutMs} ms (export)`);
    await runVirtV2v(context, conversion, posix.join(exportDir, exported.vmxFile), vmName, left(), progress);
    const converted = await readConverted(commands, tempPath, outputName);
    if (converted === null) throw new DriverError('REMOTE_COMMAND_FAILED', `The virt-v2v conversion of VM ${vmName} wrote no usable disks to ${tempPath}`);
    if (converted.disks.length !== exported.guest.disks.length) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `The virt-v2v conversion of VM ${vmName} wrote ${converted.disks.length} disks for the ${exported.guest.disks.length} of the source`);
    }
    progress({ stage: 'convert', step: 'Converted', percent: 100 });
    return converted;
  } catch (error) {
    // A failed conversion leaves nothing in the temporary location.
    await removeConversionOutput(commands, tempPath, outputName).catch(() => undefined);
    throw error;
  } finally {
    await removeExport(commands, tempPath, outputName).catch(() => undefined);
  }
}

async function runVirtV2v(context: ConversionContext, conversion: VmwareConversion, vmx: string, vmName: string, timeoutMs: number, progress: ProgressListener): Promise<void> {
  const { commands, config } = context;
  const env = Object.entries(config.env).map(([name, value]) => `${name}=${value}`);
  const argv = [
    'env',
    'LC_ALL=C',
    ...env,
    config.virtV2v,
    '--root',
    'first',
    '-i',
    'vmx',
    vmx,
    '-o',
    'local',
    '-os',
    conversion.tempPath,
    '-of',
    'qcow2',
    '-on',
    conversion.outputName,
    '--machine-readable',
    ...conversion.extraParams,
  ];
  const reader = new V2vProgress();
  const tail: string[] = [];
  let pending = '';
  const onText = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const update = reader.line(line);
      if (update) progress(update);
    }
  };
  const running = commands.stream(argv, { onStdout: onText, onStderr: onText });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    running.stop();
  }, Math.max(1_000, timeoutMs));
  let exit: { exitCode: number; stderr: string };
  try {
    exit = await running.exited;
  } catch (error) {
    throw new DriverError('REMOTE_COMMAND_FAILED', `The virt-v2v conversion of VM ${vmName} was cut off on host ${context.hostId}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new DriverError('TIMEOUT', `The virt-v2v conversion of VM ${vmName} did not finish within ${timeoutMs} ms (convert.vmware.instance.to.kvm.timeout)`, tail.join('\n'));
  if (exit.exitCode !== 0) {
    const why = reader.errors[0] ?? firstLine([...tail].reverse().join('\n'));
    throw new DriverError(
      'REMOTE_COMMAND_FAILED',
      `The virt-v2v conversion for the VM ${vmName} failed: ${why}. Please check the agent logs for the virt-v2v output. Please try on a different kvm host which has a different virt-v2v version.`,
      [...tail, exit.stderr].join('\n').trim(),
    );
  }
}

/**
 * Moves each converted disk into its pool as the volume's file, checked first (§4.6's checkVolume
 * rules), then removes what is left of the conversion. A volume already in place is kept.
 */
export async function importConvertedDisks(
  commands: HostCommands,
  hostId: string,
  storagePath: string,
  conversion: ConvertedDisksImport,
  progress: ProgressListener,
): Promise<ImportedVolume[]> {
  const made: string[] = [];
  const imported: ImportedVolume[] = [];
  try {
    for (const [i, disk] of conversion.disks.entries()) {
      progress({ stage: 'import', step: `Importing disk ${i + 1}/${conversion.disks.length}`, percent: (100 * i) / conversion.disks.length });
      const to = volumePath(disk.toPath ?? storagePath, disk.volumeId);
      const volume = await importDisk(commands, hostId, disk, to);
      if (volume.made) made.push(to);
      imported.push(volume.volume);
    }
  } catch (error) {
    await commands.exec(['rm', '-f', '--', ...made], 'removing imported volumes').catch(() => undefined);
    throw error;
  }
  await removeConversionOutput(commands, conversion.tempPath, conversion.outputName);
  progress({ stage: 'import', step: 'Imported', percent: 100 });
  return imported;
}

async function checked(commands: HostCommands, hostId: string, path: string, locking: boolean): Promise<{ virtualSize: number; format: string } | null> {
  const info = await commands.exec(['qemu-img', 'info', ...(locking ? [] : ['-U']), '--output=json', '--', path], 'checking a converted volume');
  if (info.exitCode !== 0) {
    if (/no such file/i.test(info.stderr)) return null;
    const why = /lock/i.test(info.stderr) ? 'Locked volume cannot be imported or unmanaged.' : firstLine(info.stderr);
    throw new DriverError('REMOTE_COMMAND_FAILED', `The import process failed for the converted disk ${path} on host ${hostId}: ${why}`);
  }
  const read = JSON.parse(info.stdout) as Record<string, unknown>;
  const problem = checkCopiedVolume(read);
  if (problem !== null) throw new DriverError('REMOTE_COMMAND_FAILED', `The import process failed for the converted disk ${path} on host ${hostId}: ${problem.replace(/^Unable to copy volume of remote instance: /, '')}`);
  return { virtualSize: read['virtual-size'] as number, format: String(read['format']) };
}

async function importDisk(commands: HostCommands, hostId: string, disk: ConvertedDiskImport, to: string): Promise<{ volume: ImportedVolume; made: boolean }> {
  const there = await checked(commands, hostId, to, false);
  if (there !== null) return { volume: { volumeId: disk.volumeId, path: to, ...there }, made: false };
  // Under a partial name first, so a crash never leaves a half-copied file that looks like the volume.
  const partial = `${to}.importing`;
  // Moved whole before a crash, not yet named: it only needs its name.
  const moved = await checked(commands, hostId, partial, true);
  if (moved !== null) {
    await commands.run(['mv', '-f', '--', partial, to], 'naming the imported volume', { code: 'REMOTE_COMMAND_FAILED' });
    return { volume: { volumeId: disk.volumeId, path: to, ...moved }, made: true };
  }
  // Checked before it moves: a refused disk stays where the conversion left it.
  const source = await checked(commands, hostId, disk.sourcePath, true);
  if (source === null) throw new DriverError('NOT_FOUND', `The import process failed on host ${hostId}: the converted disk ${disk.sourcePath} is not there`);
  await commands.run(['mv', '-f', '--', disk.sourcePath, partial], `moving the converted disk ${disk.sourcePath}`, { code: 'REMOTE_COMMAND_FAILED', timeoutMs: 2 * 3_600_000 });
  await commands.run(['mv', '-f', '--', partial, to], 'naming the imported volume', { code: 'REMOTE_COMMAND_FAILED' });
  return { volume: { volumeId: disk.volumeId, path: to, ...source }, made: true };
}
