// What can go wrong between an agent and a host, told apart because callers react differently: a
// refused host key or failed login needs an operator, a dropped connection leaves a command's outcome
// unknown (re-check, then retry), a command that failed says why on its stderr.

/** Every failure of the SSH layer; `target` is `user@host:port`, never a credential. */
export class SshError extends Error {
  constructor(
    readonly target: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The host presented a key other than the pinned one; nothing was sent to it. */
export class HostKeyMismatchError extends SshError {
  constructor(
    target: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(target, `refusing to connect to ${target}: its host key is ${actual}, but ${expected} is pinned for it`);
  }
}

/** No session could be opened: unreachable, refused, handshake or authentication failed. */
export class SshConnectError extends SshError {
  constructor(target: string, reason: string, cause?: unknown) {
    super(target, `cannot connect to ${target}: ${reason}`, { cause });
  }
}

/** The connection went away while a command ran: it may or may not have taken effect. */
export class SshConnectionLostError extends SshError {
  constructor(
    target: string,
    readonly command: string,
  ) {
    super(target, `the connection to ${target} dropped while running ${command}; its outcome is unknown`);
  }
}

/** The command ran longer than its timeout; it was signalled and its channel closed. */
export class SshTimeoutError extends SshError {
  constructor(
    target: string,
    readonly command: string,
    readonly timeoutMs: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(target, `${command} on ${target} did not finish within ${timeoutMs} ms`);
  }
}

/** The connection was closed by its owner; it takes no more commands. */
export class SshClosedError extends SshError {
  constructor(target: string) {
    super(target, `the SSH connection to ${target} is closed`);
  }
}

/** A remote command exited non-zero (or was killed by a signal); its stderr says why. */
export class RemoteCommandError extends SshError {
  constructor(
    target: string,
    readonly command: string,
    readonly exitCode: number,
    readonly signal: string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const how = signal === null ? `exited with status ${exitCode}` : `was killed by SIG${signal}`;
    const why = stderr.trim();
    super(target, `${command} on ${target} ${how}${why === '' ? '' : `: ${why}`}`);
  }
}
