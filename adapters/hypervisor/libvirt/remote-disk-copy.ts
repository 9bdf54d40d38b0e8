// Moving one disk of an external KVM host (behaviour §4.6 `external`, CloudStack's
// CopyRemoteVolumeCommand) into the destination host's storage as a standalone qcow2, run by the
// destination host's agent. Two ways, chosen per disk:
//   streamed   the destination host reads the source over SSH as it converts it: `nbdkit ssh …
//              --run 'qemu-img convert …'`. No temp space on the source, holes stay holes, and
//              reading overlaps converting. Used when the destination has nbdkit's ssh plugin.
//   cloudstack CloudStack's: `qemu-img convert -O qcow2` on the source host into `tmpPath`, then the
//              converted file copied over SSH (through the agent, at the pace the destination takes
//              it). Unlike CloudStack, the temp file is removed on success too.
// Either way the copy is written under a partial name and renamed only once checked (`qemu-img
// info`: qcow2, no backing file, not encrypted, not locked — CloudStack's checkVolume rules), and a
// failure removes what it left on both sides. The password goes to the source's sshd (through the
// agent's SSH login, or on nbdkit's standard input), never into a file, an argument or a message.
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { Transform } from 'node:stream';
import type { RemoteHostLogin } from '../../../domain/agent-protocol/index.js';
import { DriverError } from '../driver.js';
import { SshConnection } from '../../ssh/ssh-connection.js';
import { SshError } from '../../ssh/errors.js';
import { shellCommandLine } from '../../ssh/shell-quote.js';
import type { HostCommands } from './host-commands.js';

export type DiskCopyMode = 'streamed' | 'cloudstack';

export interface RemoteDiskCopy {
  readonly remote: RemoteHostLogin;
  readonly password: string;
  /** The disk's file on the source host. */
  readonly sourcePath: string;
  /** As its domain's definition says (`<driver type=…>`): raw, qcow2, vmdk, … */
  readonly sourceFormat: string;
  /** The qcow2 file to make on the destination host. */
  readonly destinationPath: string;
  /** CloudStack's mode: where the source host converts to (default /tmp). */
  readonly tmpPath?: string;
  /** `remote.kvm.instance.disks.copy.timeout` × 60 s: for the whole copy of this disk. */
  readonly timeoutMs: number;
  /** Bytes copied so far of all (CloudStack's mode: they pass through the agent). */
  readonly onBytes?: (done: number, total: number) => void;
}

export interface CopiedDisk {
  readonly mode: DiskCopyMode;
  /** Bytes the guest sees (the qcow2's virtual size). */
  readonly virtualSize: number;
}

const FORMAT = /^[a-z0-9]{2,16}$/;

/** What `qemu-img info` says of the copy, against CloudStack's checkVolume rules (their messages). */
export function checkCopiedVolume(info: Record<string, unknown>): string | null {
  if (info['format'] !== 'qcow2') return `Unable to copy volume of remote instance: the copy is ${String(info['format'])}, not qcow2`;
  if (info['encrypted'] === true) return 'Encrypted volume cannot be imported or unmanaged.';
  if (typeof info['backing-filename'] === 'string' || typeof info['full-backing-filename'] === 'string') return 'Volume with backing file cannot be imported or unmanaged.';
  if (typeof info['virtual-size'] !== 'number') return 'Unable to copy volume of remote instance: the copy has no virtual size';
  return null;
}

/** Whether the destination host can stream (nbdkit with its ssh plugin). */
export async function canStream(destination: HostCommands): Promise<boolean> {
  const probe = await destination.exec(['nbdkit', 'ssh', '--dump-plugin'], 'looking for nbdkit\'s ssh plugin');
  return probe.exitCode === 0;
}

function failed(copy: RemoteDiskCopy, why: string): DriverError {
  return new DriverError('REMOTE_COMMAND_FAILED', `Failed to copy volume due to: ${why}`, `${copy.remote.host}:${copy.sourcePath}`);
}

async function streamed(destination: HostCommands, copy: RemoteDiskCopy, partial: string): Promise<void> {
  const { remote } = copy;
  // nbdkit reads the password from its standard input (+/dev/stdin); verify-remote-host=false: the
  // operator named the host by address only (as for the listing).
  const run = shellCommandLine(['qemu-img', 'convert', '-q', '-f', copy.sourceFormat, '-O', 'qcow2']) + ' "$uri" ' + shellCommandLine([partial]);
  const result = await destination.exec(
    ['nbdkit', '-r', '-U', '-', 'ssh', `host=${remote.host}`, `port=${remote.port}`, `user=${remote.username}`, 'password=+/dev/stdin', 'verify-remote-host=false', `path=${copy.sourcePath}`, '--run', run],
    `streaming ${copy.sourcePath} from ${remote.host}`,
    { stdin: copy.password, timeoutMs: copy.timeoutMs },
  );
  if (result.exitCode !== 0) throw failed(copy, `streaming from ${remote.host} failed: ${firstLine(result.stderr)}`);
}

async function cloudstack(destination: HostCommands, copy: RemoteDiskCopy, partial: string): Promise<void> {
  const { remote } = copy;
  const source = new SshConnection({ host: remote.host, port: remote.port, username: remote.username, password: copy.password, hostKeySha256: null });
  const tmp = posix.join(copy.tmpPath ?? '/tmp', `vmledger-import-${randomUUID()}.qcow2`);
  const started = Date.now();
  const left = () => Math.max(1_000, copy.timeoutMs - (Date.now() - started));
  try {
    const converted = await source.exec(['qemu-img', 'convert', '-q', '-f', copy.sourceFormat, '-O', 'qcow2', '--', copy.sourcePath, tmp], { timeoutMs: left() });
    if (converted.exitCode !== 0) throw failed(copy, `converting on ${remote.host} failed: ${firstLine(converted.stderr)}`);
    // Through the agent: the source's `cat` is read only as fast as the destination writes.
    const size = await source.exec(['stat', '-c', '%s', '--', tmp], { timeoutMs: 30_000 });
    const total = size.exitCode === 0 ? Number(size.stdout.trim()) || 0 : 0;
    let done = 0;
    const onBytes = copy.onBytes ?? (() => undefined);
    // Counted on the way (a Transform holds what the destination has not read yet, as the pipe did).
    const pipe = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        done += chunk.length;
        onBytes(done, total);
        callback(null, chunk);
      },
    });
    const [sent, received] = await Promise.all([
      source.exec(['cat', '--', tmp], { stdoutTo: pipe, timeoutMs: left() }),
      destination.exec(['sh', '-c', 'cat > "$1"', 'sh', partial], `receiving ${copy.sourcePath} from ${remote.host}`, { stdin: pipe, timeoutMs: left() }),
    ]);
    if (sent.exitCode !== 0) throw failed(copy, `reading the converted file on ${remote.host} failed: ${firstLine(sent.stderr)}`);
    if (received.exitCode !== 0) throw failed(copy, `writing the copy failed: ${firstLine(received.stderr)}`);
  } catch (error) {
    if (error instanceof SshError) throw failed(copy, `Unable to connect to remote host ${remote.host}: ${error.message}`);
    throw error;
  } finally {
    // CloudStack leaves the converted file behind on success; vmledger does not.
    await source.exec(['rm', '-f', '--', tmp], { timeoutMs: 30_000 }).catch(() => undefined);
    await source.close();
  }
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? 'no error output';
}

/**
 * Copies the disk (streamed when the destination can, else CloudStack's way, unless `mode` says) and
 * checks the result; on any failure nothing of it is left on either host.
 */
export async function copyRemoteDisk(destination: HostCommands, copy: RemoteDiskCopy, mode?: DiskCopyMode): Promise<CopiedDisk> {
  if (!FORMAT.test(copy.sourceFormat)) throw failed(copy, `unknown disk format ${JSON.stringify(copy.sourceFormat.slice(0, 20))}`);
  if (!posix.isAbsolute(copy.sourcePath) || !posix.isAbsolute(copy.destinationPath)) throw failed(copy, 'disk paths must be absolute');
  const chosen = mode ?? ((await canStream(destination)) ? 'streamed' : 'cloudstack');
  const partial = `${copy.destinationPath}.part-${randomUUID().slice(0, 8)}`;
  try {
    if (chosen === 'streamed') await streamed(destination, copy, partial);
    else await cloudstack(destination, copy, partial);
    // Without -U: a copy another process holds open fails here, as CloudStack refuses a locked volume.
    const info = await destination.exec(['qemu-img', 'info', '--output=json', '--', partial], 'checking the copied volume');
    if (info.exitCode !== 0) {
      throw failed(copy, /lock/i.test(info.stderr) ? 'Locked volume cannot be imported or unmanaged.' : `Unable to copy volume of remote instance: ${firstLine(info.stderr)}`);
    }
    const read = JSON.parse(info.stdout) as Record<string, unknown>;
    const problem = checkCopiedVolume(read);
    if (problem !== null) throw failed(copy, problem);
    await destination.run(['mv', '-f', '--', partial, copy.destinationPath], 'naming the copied volume', { code: 'REMOTE_COMMAND_FAILED' });
    return { mode: chosen, virtualSize: read['virtual-size'] as number };
  } catch (error) {
    await destination.exec(['rm', '-f', '--', partial], 'removing a partial copy').catch(() => undefined);
    if (error instanceof DriverError) throw error;
    throw failed(copy, error instanceof Error ? error.message : String(error));
  }
}
