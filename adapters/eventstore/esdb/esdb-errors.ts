// Which of the client's errors are worth another try, and the server versions the adapter supports.
import {
  AccessDeniedError,
  InvalidArgumentError,
  NotFoundError,
  StreamDeletedError,
  isCommandError,
} from '@eventstore/db-client';

/**
 * A call that failed for the connection's or the cluster's sake, not for what it asked: the server
 * restarted or is unreachable (unavailable), the leader changed (not-leader), a subscription was
 * dropped as too slow (timeout, before 24.x), a deadline passed, the server cancelled the call.
 * The library does not retry any of them itself.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error) || !isCommandError(error)) return false;
  return !(
    error instanceof AccessDeniedError ||
    error instanceof InvalidArgumentError ||
    error instanceof NotFoundError ||
    error instanceof StreamDeletedError
  ) && ['unavailable', 'not-leader', 'timeout', 'deadline-exceeded', 'cancelled', 'unknown'].includes(error.type);
}

/** Exponential, capped: 10 ms, 20 ms, … 2 s. */
export function defaultRetryDelayMs(attempt: number): number {
  return Math.min(2000, 10 * 2 ** Math.min(attempt - 1, 10));
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? new Promise((resolve) => setImmediate(resolve)) : new Promise((resolve) => setTimeout(resolve, ms));
}

/** The oldest server whose stream reads carry the events' positions in the log, which every read needs. */
export const OLDEST_SUPPORTED = { major: 22, minor: 6 };

export class EsdbServerVersionError extends Error {
  constructor(readonly reported: string) {
    super(
      `EventStoreDB ${reported === 'unknown' ? '(a version before 21.10, which does not report it)' : reported} is not supported: ` +
        `vmledger needs ${OLDEST_SUPPORTED.major}.${OLDEST_SUPPORTED.minor} or later, whose stream reads report where each event is in the log`,
    );
    this.name = 'EsdbServerVersionError';
  }
}

/** Throws unless the version the server reported is one the adapter supports. */
export function assertSupportedVersion(reported: string): void {
  const match = /^(\d+)\.(\d+)/.exec(reported);
  const major = Number(match?.[1]);
  const minor = Number(match?.[2]);
  const supported = match !== null && (major > OLDEST_SUPPORTED.major || (major === OLDEST_SUPPORTED.major && minor >= OLDEST_SUPPORTED.minor));
  if (!supported) throw new EsdbServerVersionError(reported);
}
