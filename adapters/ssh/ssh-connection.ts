// One SSH connection to a host, shared by every command an agent runs there. Commands are argv arrays
// (quoted for the remote shell here, so no caller ever builds a command line by hand), each in its own
// session channel, many at once; the connection opens on first use, is kept alive, and a dropped one is
// opened again by the next command, so an agent outlives a restarted sshd or a network blip.
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { Readable, type Writable } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { ChannelSlots } from './channel-slots.js';
import {
  HostKeyMismatchError,
  RemoteCommandError,
  SshClosedError,
  SshConnectError,
  SshConnectionLostError,
  SshError,
  SshTimeoutError,
} from './errors.js';
import { hostKeyFingerprint, parseHostKeyFingerprint } from './host-key.js';
import { quoteShellArgument, shellCommandLine } from './shell-quote.js';

export interface SshConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string;
  /** The private key itself (OpenSSH or PEM format). */
  readonly privateKey?: string | Buffer;
  /** A private key file on this machine, read at every connect so a rotated key is picked up. */
  readonly privateKeyPath?: string;
  readonly passphrase?: string;
  /**
   * The pinned host key, as OpenSSH prints it: `SHA256:<base64>`. Null: any key is taken, for a host
   * nobody has pinned (an external KVM host an operator names by address, as CloudStack reaches it).
   */
  readonly hostKeySha256: string | null;
  /** SSH-level keepalives, so a dead peer is noticed even while no command runs. Default 10 s. */
  readonly keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection counts as dropped. Default 3. */
  readonly keepaliveCountMax?: number;
  /** Handshake and authentication deadline. Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** Channels open at once; more commands wait. Below sshd's MaxSessions (10 by default). Default 8. */
  readonly maxChannels?: number;
}

export interface ExecOptions {
  /**
   * Fed to the command's standard input, which is then closed (without it, stdin is closed at once).
   * A stream is piped in as it comes, at the pace the channel takes it.
   */
  readonly stdin?: string | Buffer | Readable;
  /**
   * The command's standard output goes here as it comes (piped, so a slow reader slows the command),
   * instead of into the result's `stdout`; e.g. into another command's `stdin`.
   */
  readonly stdoutTo?: Writable;
  /** The command is signalled (KILL), its channel closed and the call fails with SshTimeoutError. */
  readonly timeoutMs?: number;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** As a shell reports it: 128 + the signal number when the command was killed by a signal. */
  readonly exitCode: number;
  readonly signal: string | null;
}

export interface StreamOptions {
  /** Every chunk of standard output as it arrives. */
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /**
   * Run under a pseudo-terminal: the remote program then line-buffers its output, and closing the
   * channel hangs it up (SIGHUP), so it cannot outlive its stream.
   */
  readonly pty?: boolean;
}

/** A long-running remote command. */
export interface RemoteProcess {
  /** Settles when the command ends, however it ends; `stderr` is all it wrote there. */
  readonly exited: Promise<{ readonly exitCode: number; readonly signal: string | null; readonly stderr: string }>;
  /** Ends the command (TERM, then closes its channel); `exited` then settles. */
  stop(): void;
}

const DEFAULTS = { keepaliveIntervalMs: 10_000, keepaliveCountMax: 3, readyTimeoutMs: 20_000, maxChannels: 8 } as const;

function exitCodeOf(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : (osConstants.signals as Record<string, number | undefined>)[`SIG${signal}`];
  return 128 + (number ?? 0);
}

/** A short form of the command for error messages: argv[0] and the first few arguments, quoted where needed. */
function describeCommand(argv: readonly string[]): string {
  const shown = argv
    .slice(0, 6)
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : quoteShellArgument(word)))
    .join(' ');
  const short = shown.length > 160 ? `${shown.slice(0, 157)}...` : shown;
  return `\`${short}${argv.length > 6 ? ' ...' : ''}\``;
}

export class SshConnection {
  /** `user@host:port`, for messages and logs; never contains a credential. */
  readonly target: string;
  private readonly hostKey: string | null;
  private readonly slots: ChannelSlots;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private closed = false;

  constructor(private readonly options: SshConnectionOptions) {
    this.target = `${options.username}@${options.host}:${options.port}`;
    this.hostKey = options.hostKeySha256 === null ? null : parseHostKeyFingerprint(options.hostKeySha256, 'hostKeySha256');
    if (options.password === undefined && options.privateKey === undefined && options.privateKeyPath === undefined) {
      throw new RangeError(`no credentials for ${this.target}: give a password, a private key or a private key path`);
    }
    this.slots = new ChannelSlots(options.maxChannels ?? DEFAULTS.maxChannels);
  }

  /** Whether a session is open right now (it is opened on demand by the next command). */
  get isConnected(): boolean {
    return this.client !== null;
  }

  /** Opens the connection now instead of at the first command, to find bad settings early. */
  async connect(): Promise<void> {
    await this.session();
  }

  /**
   * Runs `argv` and resolves with its output and exit status, whatever the status (see `run` for the
   * variant that fails on a non-zero one).
   */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.execute(shellCommandLine(argv), describeCommand(argv), options, null);
  }

  /** Like `exec`, but a non-zero exit fails with RemoteCommandError, which keeps the command's stderr. */
  async run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.exec(argv, options);
    if (result.exitCode !== 0) {
      throw new RemoteCommandError(this.target, describeCommand(argv), result.exitCode, result.signal, result.stdout, result.stderr);
    }
    return result;
  }

  /**
   * Starts a long-running command whose output is handed over as it comes. It holds a channel slot
   * until it ends. Fails `exited` when it cannot start or the connection drops under it.
   */
  stream(argv: readonly string[], options: StreamOptions): RemoteProcess {
    let stopped = false;
    let channel: ClientChannel | null = null;
    const exited = this.execute(shellCommandLine(argv), describeCommand(argv), {}, {
      ...options,
      opened: (opened) => {
        channel = opened;
        if (stopped) endChannel(opened, 'TERM');
      },
    }).then((result) => ({ exitCode: result.exitCode, signal: result.signal, stderr: result.stderr }));
    return {
      exited,
      stop: () => {
        stopped = true;
        if (channel) endChannel(channel, 'TERM');
      },
    };
  }

  /** Ends the connection and every command on it; later commands fail with SshClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.slots.refuseWaiting(new SshClosedError(this.target));
    const client = this.client ?? (await this.connecting?.catch(() => null)) ?? null;
    this.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      // A peer that no longer answers never acknowledges the goodbye: drop the socket after a while.
      const hard = setTimeout(() => client.destroy(), 5_000);
      client.once('close', () => {
        clearTimeout(hard);
        resolve();
      });
      client.end();
    });
  }

  // ---- the session ----

  private async session(): Promise<Client> {
    if (this.closed) throw new SshClosedError(this.target);
    if (this.client) return this.client;
    // Commands that arrive while the connection opens share the attempt instead of opening their own.
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const config = await this.connectConfig();
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let presented: string | null = null;
      let ready = false;
      const verify = (key: Buffer): boolean => {
        presented = hostKeyFingerprint(key);
        return this.hostKey === null || presented === this.hostKey;
      };
      client.on('ready', () => {
        ready = true;
        if (this.closed) {
          client.end();
          reject(new SshClosedError(this.target));
          return;
        }
        this.client = client;
        resolve(client);
      });
      client.on('error', (error: Error & { level?: string }) => {
        // After `ready` an error is always followed by `close`, which is where a drop is handled.
        if (ready) return;
        if (presented !== null && this.hostKey !== null && presented !== this.hostKey) {
          reject(new HostKeyMismatchError(this.target, this.hostKey, presented));
        } else {
          const reason = error.level === 'client-authentication' ? `authentication failed (${error.message})` : error.message;
          reject(new SshConnectError(this.target, reason, error));
        }
      });
      client.on('close', () => {
        if (this.client === client) this.client = null;
        if (!ready) reject(new SshConnectError(this.target, 'the connection closed during the handshake'));
      });
      client.connect({ ...config, hostVerifier: verify });
    });
  }

  private async connectConfig(): Promise<ConnectConfig> {
    const { options } = this;
    let privateKey = options.privateKey;
    if (privateKey === undefined && options.privateKeyPath !== undefined) {
      try {
        privateKey = await readFile(options.privateKeyPath);
      } catch (error) {
        throw new SshConnectError(this.target, `cannot read the private key file ${options.privateKeyPath}`, error);
      }
    }
    return {
      host: options.host,
      port: options.port,
      username: options.username,
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(privateKey === undefined ? {} : { privateKey }),
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
      keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
      readyTimeout: options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
    };
  }

  // ---- one command ----

  /**
   * Takes a channel slot (freed when the channel closes), opens the session if need be, runs the
   * command in a new channel and collects what it does. The channel's listeners are attached in
   * ssh2's callback itself: the output, exit status and close of a quick command can arrive in the
   * same packet batch as the channel's confirmation, before any later tick.
   */
  private async execute(
    command: string,
    what: string,
    options: ExecOptions,
    stream: (StreamOptions & { opened: (channel: ClientChannel) => void }) | null,
  ): Promise<ExecResult> {
    const release = await this.slots.acquire();
    let client: Client;
    try {
      client = await this.session();
    } catch (error) {
      release();
      throw error;
    }
    return new Promise<ExecResult>((resolve, reject) => {
      const opened = (error: Error | undefined, channel: ClientChannel): void => {
        if (error) {
          release();
          if (this.closed) reject(new SshClosedError(this.target));
          else if (this.client !== client) reject(new SshConnectionLostError(this.target, what));
          else reject(new SshError(this.target, `${this.target} refused a session for ${what}: ${error.message}`, { cause: error }));
          return;
        }
        channel.once('close', release);
        stream?.opened(channel);
        this.collect(client, channel, what, options, stream ?? undefined).then(resolve, reject);
      };
      try {
        if (stream?.pty) client.exec(command, { pty: { term: 'dumb', cols: 4096, rows: 24 } }, opened);
        else client.exec(command, opened);
      } catch {
        // ssh2 throws synchronously when the connection is no longer writable.
        release();
        reject(new SshConnectionLostError(this.target, what));
      }
    });
  }

  /** Attaches to a channel's output and settles with its result; call it in the channel's open callback. */
  private collect(
    client: Client,
    channel: ClientChannel,
    what: string,
    options: ExecOptions,
    stream?: StreamOptions,
  ): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exit: { code: number | null; signal: string | null } | null = null;
      let timedOut = false;
      const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8');

      if (options.stdoutTo) {
        channel.pipe(options.stdoutTo);
      } else {
        channel.on('data', (chunk: Buffer) => {
          if (stream) stream.onStdout(chunk);
          else stdout.push(chunk);
        });
      }
      channel.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        stream?.onStderr?.(chunk);
      });
      channel.on('exit', (code: number | null, signal?: string) => {
        // ssh2 names signals as `SIGHUP`, the SSH protocol as `HUP`; keep the protocol's form.
        exit = { code: code ?? null, signal: signal ? signal.replace(/^SIG/, '') : null };
      });
      // A channel emits `error` for protocol problems; the `close` that follows settles the command.
      channel.on('error', () => {});
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              // Fails at once rather than at the channel's close, which a wedged connection may never send.
              timedOut = true;
              endChannel(channel, 'KILL');
              reject(new SshTimeoutError(this.target, what, options.timeoutMs ?? 0, text(stdout), text(stderr)));
            }, options.timeoutMs);
      channel.on('close', () => {
        clearTimeout(timer);
        if (timedOut) {
          return;
        } else if (exit) {
          resolve({ stdout: text(stdout), stderr: text(stderr), exitCode: exitCodeOf(exit.code, exit.signal), signal: exit.signal });
        } else if (this.closed) {
          reject(new SshClosedError(this.target));
        } else {
          // No exit status: the connection died under the command (OpenSSH always sends one otherwise).
          if (this.client === client) this.client = null;
          reject(new SshConnectionLostError(this.target, what));
        }
      });
      if (options.stdin === undefined) channel.end();
      else if (options.stdin instanceof Readable) options.stdin.pipe(channel);
      else channel.end(options.stdin);
    });
  }
}

/**
 * Asks sshd to signal the command, then closes the channel. sshd may refuse the signal (OpenSSH honours
 * it only in some configurations); closing the channel then hangs up a pty command and closes the pipes
 * of any other.
 */
function endChannel(channel: ClientChannel, signal: 'TERM' | 'KILL'): void {
  try {
    channel.signal(signal);
  } catch {
    // The channel is already closing; closing it below is all that is left to do.
  }
  channel.close();
}
