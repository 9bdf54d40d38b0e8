// Parsers of virsh's text output (run with LC_ALL=C, so the words are libvirt's English ones). Each
// refuses output it does not recognise instead of guessing: a misread power state would make the
// orchestrator believe a running guest stopped.
import type { DomainPowerState, HostResources } from '../driver.js';

export class VirshOutputError extends Error {
  constructor(what: string, output: string) {
    const shown = output.length > 300 ? `${output.slice(0, 300)}...` : output;
    super(`cannot read ${what} from virsh output: ${JSON.stringify(shown)}`);
    this.name = 'VirshOutputError';
  }
}

function field(output: string, label: string, what: string): string {
  const line = output.split('\n').find((candidate) => candidate.startsWith(`${label}:`));
  if (line === undefined) throw new VirshOutputError(what, output);
  return line.slice(label.length + 1).trim();
}

/** `virsh nodeinfo`: cores, MHz per core, memory in MiB. */
export function parseNodeInfo(output: string): HostResources {
  const cpus = Number(field(output, 'CPU(s)', 'the CPU count'));
  const mhz = /^(\d+) MHz$/.exec(field(output, 'CPU frequency', 'the CPU frequency'));
  const memory = /^(\d+) KiB$/.exec(field(output, 'Memory size', 'the memory size'));
  if (!Number.isSafeInteger(cpus) || cpus < 1) throw new VirshOutputError('the CPU count', output);
  if (!mhz) throw new VirshOutputError('the CPU frequency', output);
  if (!memory) throw new VirshOutputError('the memory size', output);
  return { cpuNumber: cpus, cpuSpeed: Number(mhz[1]), memory: Math.floor(Number(memory[1]) / 1024) };
}

/**
 * libvirt's state words (virsh domstate / list) → the port's power states. A domain whose QEMU process
 * exists holds the host's resources and counts as running, whether it runs, idles, is paused (as during
 * the last phase of a migration), shutting down or suspended to RAM; only `shut off` (and `crashed`,
 * which `on_crash=destroy` turns into shut off at once) is stopped.
 */
export function powerStateOf(state: string): DomainPowerState {
  switch (state) {
    case 'running':
    case 'idle':
    case 'blocked':
    case 'paused':
    case 'in shutdown':
    case 'pmsuspended':
    case 'no state':
      return 'running';
    case 'shut off':
    case 'crashed':
      return 'stopped';
    default:
      throw new VirshOutputError('a domain state', state);
  }
}

/** `virsh domstate <name>` (the first line; `--reason` adds ` (reason)`). */
export function parseDomainState(output: string): DomainPowerState {
  const first = output.trim().split('\n')[0] ?? '';
  return powerStateOf(first.replace(/\s*\(.*\)$/, '').trim());
}

export interface ListedDomain {
  readonly instanceName: string;
  readonly powerState: DomainPowerState;
}

/** The rows of a virsh table (`list`, `domblkinfo --all`): the lines after the `----` rule. */
function tableRows(output: string, what: string): string[] {
  const lines = output.split('\n');
  const rule = lines.findIndex((line) => /^-{3,}\s*$/.test(line.trim()));
  if (rule === -1) {
    if (output.trim() === '') return [];
    throw new VirshOutputError(what, output);
  }
  return lines.slice(rule + 1).filter((line) => line.trim() !== '');
}

/**
 * `virsh list --all`: ` Id   Name   State` then one row per domain, the id `-` when it is off. The
 * columns are padded with at least three spaces, and a state can hold one (`shut off`), so the name is
 * everything between the id and the last run of 2+ spaces.
 */
export function parseDomainList(output: string): ListedDomain[] {
  return tableRows(output, 'the domain list').map((row) => {
    const match = /^\s*(\d+|-)\s+(\S(?:.*?\S)?)\s{2,}(\S(?:.*\S)?)\s*$/.exec(row);
    if (!match) throw new VirshOutputError('a domain list row', row);
    return { instanceName: match[2]!, powerState: powerStateOf(match[3]!) };
  });
}

/** `virsh domblkinfo <name> --all`: each disk's virtual size (Capacity) in bytes, by target device. */
export function parseBlockInfo(output: string): Map<string, number> {
  const capacities = new Map<string, number>();
  for (const row of tableRows(output, 'the disk sizes')) {
    const match = /^\s*(\S+)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s*$/.exec(row);
    if (!match) throw new VirshOutputError('a disk size row', row);
    // `-` is an empty drive (a CD-ROM without a medium): no size to report.
    if (match[2] !== '-') capacities.set(match[1]!, Number(match[2]));
  }
  return capacities;
}

export interface LifecycleEvent {
  readonly instanceName: string;
  /** Started, Stopped, Defined, Undefined, Suspended, Resumed, Shutdown, PMSuspended, Crashed. */
  readonly event: string;
  /** Why: Booted, Destroyed, Shutdown, Migrated, Finished, … */
  readonly detail: string;
}

/**
 * One line of `virsh event --loop --event lifecycle`:
 * `event 'lifecycle' for domain 'i-2-14-VM': Stopped Destroyed` (libvirt before 6.x left the name
 * unquoted; `--timestamp` prefixes a time). Null for any other line.
 */
export function parseLifecycleEvent(line: string): LifecycleEvent | null {
  const match = /event 'lifecycle' for domain (?:'(.+)'|(\S+)): (\S+)(?: (\S+))?\s*$/.exec(line);
  if (!match) return null;
  return { instanceName: (match[1] ?? match[2])!, event: match[3]!, detail: match[4] ?? '' };
}
