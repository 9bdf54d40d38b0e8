// Moving one disk of an external KVM host (behaviour §4.6 `external`, CloudStack's
// CopyRemoteVolumeCommand) into the destination host's storage as a standalone qcow2, run by the
// destination host's agent. Two ways, chosen per disk:
//   streamed   the destination host reads the source over SSH as it converts it: `nbdkit ssh …
//              --run 'qemu-img convert …'`. No temp space on the source, holes stay holes, and
//              reading overlaps converting. Used when the destination has nbdkit's ssh plugin.
//   cloudstack CloudStack's: `qemu-img convert -O qcow2` on the source host into `tmpPath`, then the
//              converted file copied over SSH (through the agent, at the pace the destination takes
//              it). Unlike CloudStack, the temp file is removed on success too.
// Either way the copy is written under a partial name (`<destination>.part-…`) and checked (`qemu-img
// info`: qcow2, no backing file, not encrypted, not locked — CloudStack's checkVolume rules); the
// caller names it once every disk of the import is there. A failure removes what it left on both
// sides; an agent that dies mid-copy cannot, so every command that makes a file is leashed to the
// agent's connection (leash.ts): the hosts stop it and remove its files themselves. The password goes
// to the source's sshd (through the agent's SSH login, or on nbdkit's standard input), never into a
// file, an argument or a message.
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { Transform } from 'node:stream';
import type { RemoteHostLogin } from '../../../domain/agent-protocol/index.js';
import { DriverError } from '../driver.js';
import { SshConnection } from '../../ssh/ssh-connection.js';
import { SshError } from '../../ssh/errors.js';
import { shellCommandLine } from '../../ssh/shell-quote.js';
import type { HostCommands } from './host-commands.js';
import { leashed } from './leash.js';

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
  /** CloudStack's mode: how long the source host took to convert, before the first byte came over. */
  readonly convertMs?: number;
}

/** A checked copy still under its partial name. */
export interface PartialCopy extends CopiedDisk {
  readonly partialPath: string;
}

export interface CopyOptions {
  /** Forced; else streamed when the destination can. */
  readonly mode?: DiskCopyMode;
  /**
   * Partial copies made before this one (the import's earlier disks): removed with this one's should
   * the agent's connection go away while this one is copied.
   */
  readonly guard?: readonly string[];
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

/** The agent's own login to the source host (CloudStack's mode copies through it; streamed mode asks it for a raw disk's map). */
function sourceLogin(copy: RemoteDiskCopy): SshConnection {
  const { remote } = copy;
  return new SshConnection({ host: remote.host, port: remote.port, username: remote.username, password: copy.password, hostKeySha256: null });
}

/**
 * nbdkit's extentlist filter's file from `qemu-img map`'s human output, which lists a raw file's data
 * extents only (`0 0x100000 0 disk.raw`, `0x200000 0x100000 0x200000 disk.raw`): one `offset length` line each; everything
 * else is a hole. Null when the output is not that.
 */
export function extentList(map: string): string | null {
  const lines = map.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0 || !/^Offset\s+Length\b/.test(lines[0]!)) return null;
  const extents: string[] = [];
  for (const line of lines.slice(1)) {
    // qemu-img prints offset zero as `0`, every other number in hex.
    const match = /^(0x[0-9a-f]+|0)\s+(0x[0-9a-f]+|0)\s/i.exec(line);
    if (!match) return null;
    extents.push(`${BigInt(match[1]!)} ${BigInt(match[2]!)}\n`);
  }
  return extents.join('');
}

/**
 * Where a raw disk has data, as the source host's qemu-img sees it (holes left out), or null (not
 * raw, no qemu-img there, …: then every byte is read). SFTP cannot tell holes from data, so without
 * it a sparse raw disk crosses the link whole, zeros included: twice the time for a half-empty disk.
 */
async function rawDataExtents(copy: RemoteDiskCopy): Promise<string | null> {
  if (copy.sourceFormat !== 'raw' || copy.password.includes('\n')) return null;
  const source = sourceLogin(copy);
  try {
    const map = await source.exec(['env', 'LC_ALL=C', 'qemu-img', 'map', '-f', 'raw', '--', copy.sourcePath], { timeoutMs: Math.min(copy.timeoutMs, 120_000) });
    return map.exitCode === 0 ? extentList(map.stdout) : null;
  } catch {
    return null;
  } finally {
    await source.close();
  }
}

/**
 * On the destination host, under the leash, for a raw disk with its extent list: the password's
 * line from standard input, the list from the rest of it into the file `$1`; nbdkit then gets the
 * password on its standard input (printf is the shell's own: no process has it in its arguments).
 * The list goes when nbdkit ends.
 */
const STREAM = 'list=$1; shift; IFS= read -r password; cat > "$list" || exit 1; printf %s "$password" | "$@"; status=$?; rm -f -- "$list"; exit $status';

async function streamed(destination: HostCommands, copy: RemoteDiskCopy, partial: string, guard: readonly string[]): Promise<void> {
  const { remote } = copy;
  const extents = await rawDataExtents(copy);
  const list = extents === null ? null : `${partial}.extents`;
  // verify-remote-host=false: the operator named the host by address only (as for the listing).
  const run = shellCommandLine(['qemu-img', 'convert', '-q', '-f', copy.sourceFormat, '-O', 'qcow2']) + ' "$uri" ' + shellCommandLine([partial]);
  const nbdkit = [
    'nbdkit',
    '-r',
    '-U',
    '-',
    ...(list === null ? [] : ['--filter=extentlist']),
    'ssh',
    `host=${remote.host}`,
    `port=${remote.port}`,
    `user=${remote.username}`,
    'password=+/dev/stdin',
    'verify-remote-host=false',
    `path=${copy.sourcePath}`,
    ...(list === null ? [] : [`extentlist=${list}`]),
    '--run',
    run,
  ];
  // nbdkit reads the password from its standard input (+/dev/stdin); with an extent list, the list follows it there.
  const result = await destination.exec(
    list === null ? leashed([partial, ...guard], nbdkit) : leashed([partial, list, ...guard], ['sh', '-c', STREAM, 'sh', list, ...nbdkit]),
    `streaming ${copy.sourcePath} from ${remote.host}`,
    { stdin: list === null ? copy.password : `${copy.password}\n${extents}`, timeoutMs: copy.timeoutMs },
  );
  if (result.exitCode !== 0) throw failed(copy, `streaming from ${remote.host} failed: ${firstLine(result.stderr)}`);
}

/**
 * On the source host, in one leashed command (so the temp file lives exactly as long as the agent's
 * hold on it): convert into the temp file, send it, remove it. Exit 3: the conversion failed.
 */
const CONVERT_AND_SEND = 'qemu-img convert -q -f "$1" -O qcow2 -- "$2" "$3" || exit 3; cat -- "$3"; status=$?; rm -f -- "$3"; exit $status';

async function cloudstack(destination: HostCommands, copy: RemoteDiskCopy, partial: string, guard: readonly string[]): Promise<number> {
  const { remote } = copy;
  const source = sourceLogin(copy);
  const tmp = posix.join(copy.tmpPath ?? '/tmp', `vmledger-import-${randomUUID()}.qcow2`);
  const started = Date.now();
  let convertMs = 0;
  try {
    // Through the agent: the source's `cat` is read only as fast as the destination writes.
    // The converted file's size is known only once it is sent; the source's allocated bytes are what
    // a qcow2 of it holds, near enough for progress (capped by the caller).
    const size = await source.exec(['stat', '-c', '%b %B', '--', copy.sourcePath], { timeoutMs: 30_000 });
    const [blocks, blockSize] = size.exitCode === 0 ? size.stdout.trim().split(' ').map(Number) : [0, 0];
    const total = (blocks ?? 0) * (blockSize ?? 0) || 0;
    let sentBytes = 0;
    const onBytes = copy.onBytes ?? (() => undefined);
    const pipe = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        // The first byte comes once the source host has converted the whole disk.
        if (convertMs === 0) convertMs = Date.now() - started;
        sentBytes += chunk.length;
        onBytes(sentBytes, total);
        done(null, chunk);
      },
    });
    const [sent, received] = await Promise.all([
      source.exec(leashed([tmp], ['sh', '-c', CONVERT_AND_SEND, 'sh', copy.sourceFormat, copy.sourcePath, tmp]), { stdoutTo: pipe, timeoutMs: copy.timeoutMs }),
      destination.exec(leashed([partial, ...guard], ['sh', '-c', 'cat > "$1"', 'sh', partial]), `receiving ${copy.sourcePath} from ${remote.host}`, { stdin: pipe, timeoutMs: copy.timeoutMs }),
    ]);
    if (sent.exitCode === 3) throw failed(copy, `converting on ${remote.host} failed: ${firstLine(sent.stderr)}`);
    if (sent.exitCode !== 0) throw failed(copy, `reading the converted file on ${remote.host} failed: ${firstLine(sent.stderr)}`);
    if (received.exitCode !== 0) throw failed(copy, `writing the copy failed: ${firstLine(received.stderr)}`);
    return convertMs;
  } catch (error) {
    if (error instanceof SshError) throw failed(copy, `Unable to connect to remote host ${remote.host}: ${error.message}`);
    throw error;
  } finally {
    // CloudStack leaves the converted file behind on success; vmledger does not (the command removes
    // it; this is for a command cut short, e.g. by its timeout).
    await source.exec(['rm', '-f', '--', tmp], { timeoutMs: 30_000 }).catch(() => undefined);
    await source.close();
  }
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? 'no error output';
}

/** Where a copy of `destinationPath` is made until it is named: `<destinationPath>.part-<random>`. */
function partialPathOf(destinationPath: string): string {
  return `${destinationPath}.part-${randomUUID().slice(0, 8)}`;
}

/**
 * Removes the partial copies an earlier run left for these destinations (an agent that died mid-copy,
 * its leash cut by a connection that hung instead of closing): a volume's files belong to its import.
 */
export async function removePartialCopies(destination: HostCommands, destinationPaths: readonly string[]): Promise<void> {
  if (destinationPaths.length === 0) return;
  for (const path of destinationPaths) if (!posix.isAbsolute(path)) throw new RangeError(`not an absolute path: ${path}`);
  await destination.run(['sh', '-c', 'for f in "$@"; do rm -f -- "$f".part-*; done', 'sh', ...destinationPaths], 'removing partial copies', { code: 'REMOTE_COMMAND_FAILED' });
}

/**
 * Copies the disk (streamed when the destination can, else CloudStack's way, unless `mode` says) and
 * checks the result, leaving it under its partial name; on any failure nothing of it is left on
 * either host.
 */
export async function copyRemoteDiskPartially(destination: HostCommands, copy: RemoteDiskCopy, options: CopyOptions = {}): Promise<PartialCopy> {
  if (!FORMAT.test(copy.sourceFormat)) throw failed(copy, `unknown disk format ${JSON.stringify(copy.sourceFormat.slice(0, 20))}`);
  if (!posix.isAbsolute(copy.sourcePath) || !posix.isAbsolute(copy.destinationPath)) throw failed(copy, 'disk paths must be absolute');
  const chosen = options.mode ?? ((await canStream(destination)) ? 'streamed' : 'cloudstack');
  const partial = partialPathOf(copy.destinationPath);
  const guard = options.guard ?? [];
  try {
    let convertMs: number | undefined;
    if (chosen === 'streamed') await streamed(destination, copy, partial, guard);
    else convertMs = await cloudstack(destination, copy, partial, guard);
    // Without -U: a copy another process holds open fails here, as CloudStack refuses a locked volume.
    const info = await destination.exec(['qemu-img', 'info', '--output=json', '--', partial], 'checking the copied volume');
    if (info.exitCode !== 0) {
      throw failed(copy, /lock/i.test(info.stderr) ? 'Locked volume cannot be imported or unmanaged.' : `Unable to copy volume of remote instance: ${firstLine(info.stderr)}`);
    }
    const read = JSON.parse(info.stdout) as Record<string, unknown>;
    const problem = checkCopiedVolume(read);
    if (problem !== null) throw failed(copy, problem);
    return { mode: chosen, virtualSize: read['virtual-size'] as number, partialPath: partial, ...(convertMs === undefined ? {} : { convertMs }) };
  } catch (error) {
    await destination.exec(['rm', '-f', '--', partial], 'removing a partial copy').catch(() => undefined);
    if (error instanceof DriverError) throw error;
    throw failed(copy, error instanceof Error ? error.message : String(error));
  }
}

/** Names a checked partial copy as the volume's disk. */
export async function nameCopy(destination: HostCommands, partialPath: string, destinationPath: string): Promise<void> {
  await destination.run(['mv', '-f', '--', partialPath, destinationPath], 'naming the copied volume', { code: 'REMOTE_COMMAND_FAILED' });
}

/** One disk, copied, checked and named. */
export async function copyRemoteDisk(destination: HostCommands, copy: RemoteDiskCopy, mode?: DiskCopyMode): Promise<CopiedDisk> {
  const { partialPath, ...copied } = await copyRemoteDiskPartially(destination, copy, mode === undefined ? {} : { mode });
  try {
    await nameCopy(destination, partialPath, copy.destinationPath);
  } catch (error) {
    await destination.exec(['rm', '-f', '--', partialPath], 'removing a partial copy').catch(() => undefined);
    throw error;
  }
  return copied;
}
