// Runs the driver's commands on its host and turns every way they can fail into a DriverError that
// says what was being done, on which host, with the remote stderr as its detail: the agent puts both
// into its reply, so an operator reads libvirt's own words without logging into the host.
import { DriverError, type DriverErrorCode } from '../driver.js';
import { SshError, SshTimeoutError } from '../../ssh/errors.js';
import type { ExecOptions, ExecResult, RemoteProcess, SshConnection, StreamOptions } from '../../ssh/ssh-connection.js';

/** `virsh` against the host's system libvirtd, with libvirt's English messages whatever the locale. */
export const VIRSH = ['env', 'LC_ALL=C', 'virsh', '-c', 'qemu:///system'] as const;

/** Default deadline of one remote command; a hung libvirtd must not hang the agent with it. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/** What a failed virsh command's stderr says, as the port's error codes. */
export function classifyVirshFailure(stderr: string): DriverErrorCode {
  if (/failed to get domain|domain not found|no domain with matching/i.test(stderr)) return 'NOT_FOUND';
  if (/domain is not running/i.test(stderr)) return 'NOT_RUNNING';
  if (
    /cannot allocate memory|out of memory|cannot set memory higher than max memory|greater than max(imum)? allowable vcpus|requested vcpus is greater than|insufficient/i.test(
      stderr,
    )
  ) {
    return 'INSUFFICIENT_CAPACITY';
  }
  return 'REMOTE_COMMAND_FAILED';
}

/** libvirt's messages start `error: `; the first line is the summary worth putting in a message. */
function summary(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((text) => text.replace(/^error:\s*/, '').trim())
    .find((text) => text !== '');
  return line ?? 'no error output';
}

export class HostCommands {
  constructor(
    private readonly connection: SshConnection,
    /** The vmledger host id, for messages. */
    readonly hostId: string,
  ) {}

  /**
   * Runs `argv` and resolves with its result whatever its exit status; fails only when it could not
   * run (connection, timeout).
   */
  async exec(argv: readonly string[], what: string, options: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await this.connection.exec(argv, { timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS, ...options });
    } catch (error) {
      if (error instanceof SshTimeoutError) {
        throw new DriverError('TIMEOUT', `${what} on libvirt host ${this.hostId} did not finish within ${error.timeoutMs} ms`, error.stderr);
      }
      if (error instanceof SshError) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `${what} on libvirt host ${this.hostId}: ${error.message}`);
      }
      throw error;
    }
  }

  /** Runs `argv`; a non-zero exit fails with `code` (default: what the stderr says) and the stderr as detail. */
  async run(argv: readonly string[], what: string, options: ExecOptions & { code?: DriverErrorCode } = {}): Promise<string> {
    const result = await this.exec(argv, what, options);
    if (result.exitCode !== 0) throw this.failure(what, result, options.code);
    return result.stdout;
  }

  /**
   * Starts a long-running command whose output is handed over as it comes (a conversion). Under a
   * pseudo-terminal unless told otherwise: closing the channel (the agent gone) hangs it up.
   */
  stream(argv: readonly string[], options: StreamOptions): RemoteProcess {
    return this.connection.stream(argv, { pty: true, ...options });
  }

  /** `virsh <args>`, failing with the code its stderr indicates. */
  virsh(args: readonly string[], what: string, options: ExecOptions = {}): Promise<string> {
    return this.run([...VIRSH, ...args], what, options);
  }

  /** `virsh <args>` whatever its exit status, for callers that tell expected failures apart themselves. */
  virshResult(args: readonly string[], what: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.exec([...VIRSH, ...args], what, options);
  }

  failure(what: string, result: ExecResult, code?: DriverErrorCode): DriverError {
    return new DriverError(
      code ?? classifyVirshFailure(result.stderr),
      `${what} failed on libvirt host ${this.hostId}: ${summary(result.stderr)}`,
      result.stderr.trim() === '' ? `exit status ${result.exitCode}` : result.stderr.trim(),
    );
  }
}
