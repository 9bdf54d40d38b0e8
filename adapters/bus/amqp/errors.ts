// The RabbitMQ bus's own errors, and how it tells a lost connection (try again on a new one) from a
// broker's answer (a retry will not change it).
import { BusError } from '../validation.js';

export class BusUnavailableError extends BusError {
  readonly code = 'BUS_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'BusUnavailableError';
  }
}

/** The broker refused to take a message (basic.nack): it is not stored, and the caller decides whether to retry. */
export class PublishNackedError extends BusError {
  readonly code = 'PUBLISH_NACKED';
  constructor(readonly queue: string, readonly messageId: string) {
    super(`the broker refused message ${JSON.stringify(messageId)} for queue ${JSON.stringify(queue)} (nack)`);
    this.name = 'PublishNackedError';
  }
}

/** A publish whose channel went away before the broker confirmed it: unknown outcome, so it is sent again. */
export class ConnectionLostError extends Error {
  constructor(cause: unknown) {
    super(`connection lost before the broker confirmed: ${errorText(cause)}`);
    this.name = 'ConnectionLostError';
  }
}

export function amqpReplyCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'number' ? error.code : undefined;
}

/**
 * Whether an operation failed because its channel or connection went away (so a retry on a new one
 * can succeed) rather than because the broker refused it.
 */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof ConnectionLostError) return true;
  const code = amqpReplyCode(error);
  // 320 CONNECTION_FORCED (broker shutting down), 504 CHANNEL_ERROR, 505 UNEXPECTED_FRAME,
  // 541 INTERNAL_ERROR: what a stopping broker answers to operations in flight. Any other reply
  // code is the broker refusing the operation itself (403, 404, 406, …), which a retry will not fix.
  if (code !== undefined) return code === 320 || code === 504 || code === 505 || code === 541;
  if (error instanceof Error) {
    const text = error.message.toLowerCase();
    return text.includes('closed') || text.includes('econnreset') || text.includes('socket') || text.includes('epipe');
  }
  return false;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return error === null || error === undefined ? 'no error given' : String(error);
}
