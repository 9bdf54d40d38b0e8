// What every bus adapter refuses, and how: the input checks and errors shared by the in-memory bus
// and the RabbitMQ adapter, so both refuse exactly the same inputs before anything is queued.
import type { JsonValue } from '../eventstore/port.js';
import type { BusMessage, ConsumeOptions, QueueOptions } from './port.js';
import { DEFAULT_DELIVERY_LIMIT } from './port.js';

/** RabbitMQ queue names are at most 255 bytes; 200 leaves room for the `.dead` suffix and a margin. */
export const MAX_QUEUE_NAME_LENGTH = 200;
/** AMQP `message-id` and `type` are short strings: at most 255 bytes. */
export const MAX_SHORT_STRING_BYTES = 255;
/** Commands and replies are small; a bound makes a runaway payload fail at the publisher, not the broker. */
export const MAX_BUS_MESSAGE_BYTES = 1024 * 1024;
/** AMQP's prefetch count is an unsigned 16-bit number, and 0 there means "unbounded", which we refuse. */
export const MAX_PREFETCH = 65_535;
export const DEFAULT_PREFETCH = 32;
/** Header the bus sets on a dead-lettered message; the values follow RabbitMQ's own death reasons. */
export const DEATH_REASON_HEADER = 'x-death-reason';
export type DeathReason = 'delivery_limit' | 'rejected';

const QUEUE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

export abstract class BusError extends Error {
  abstract readonly code: string;
}

export class InvalidBusInputError extends BusError {
  readonly code = 'INVALID_BUS_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidBusInputError';
  }
}

export class UnknownQueueError extends BusError {
  readonly code = 'UNKNOWN_QUEUE';
  constructor(readonly queue: string) {
    super(`queue ${JSON.stringify(queue)} is not declared: call declareQueue() first`);
    this.name = 'UnknownQueueError';
  }
}

export class QueueConflictError extends BusError {
  readonly code = 'QUEUE_CONFLICT';
  constructor(
    readonly queue: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueueConflictError';
  }
}

export class BusClosedError extends BusError {
  readonly code = 'BUS_CLOSED';
  constructor() {
    super('the bus is closed');
    this.name = 'BusClosedError';
  }
}

export function assertQueueName(queue: unknown, field = 'queue'): asserts queue is string {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) {
    throw new InvalidBusInputError(
      field,
      `${field} must be 1-${MAX_QUEUE_NAME_LENGTH} characters of [A-Za-z0-9._-], got ${describe(queue)}`,
    );
  }
  // RabbitMQ refuses to declare these (ACCESS_REFUSED); refusing them everywhere keeps adapters alike.
  if (queue.startsWith('amq.')) {
    throw new InvalidBusInputError(field, `${field} ${JSON.stringify(queue)} uses the broker-reserved prefix "amq."`);
  }
}

export function resolveQueueOptions(options: QueueOptions | undefined): { deliveryLimit: number } {
  const deliveryLimit = options?.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  if (!Number.isSafeInteger(deliveryLimit) || deliveryLimit < 1) {
    throw new InvalidBusInputError('deliveryLimit', `deliveryLimit must be an integer >= 1, got ${describe(deliveryLimit)}`);
  }
  return { deliveryLimit };
}

/** The checks every adapter's consume() makes before it subscribes anything. */
export function checkConsume(queue: unknown, handler: unknown, options: ConsumeOptions | undefined): { prefetch: number } {
  assertQueueName(queue);
  if (typeof handler !== 'function') throw new InvalidBusInputError('handler', 'handler must be a function');
  return resolveConsumeOptions(options);
}

export function resolveConsumeOptions(options: ConsumeOptions | undefined): { prefetch: number } {
  const prefetch = options?.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > MAX_PREFETCH) {
    throw new InvalidBusInputError('prefetch', `prefetch must be an integer in 1..${MAX_PREFETCH}, got ${describe(prefetch)}`);
  }
  return { prefetch };
}

/** A message checked and serialised once at publish; every delivery parses its own copy of the body. */
export interface SerialisedBusMessage {
  readonly id: string;
  readonly type: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function serialiseBusMessage(message: unknown): SerialisedBusMessage {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new InvalidBusInputError('message', `message must be an object, got ${describe(message)}`);
  }
  const { id, type, body, headers } = message as Partial<BusMessage>;
  assertShortString(id, 'message.id');
  assertShortString(type, 'message.type');
  if (body === undefined) throw new InvalidBusInputError('message.body', 'message.body is required (null is allowed)');
  assertJson(body, 'message.body', new Set());
  const copiedHeaders = checkHeaders(headers);
  const bodyText = JSON.stringify(body);
  const bytes = Buffer.byteLength(bodyText) + Buffer.byteLength(JSON.stringify(copiedHeaders));
  if (bytes > MAX_BUS_MESSAGE_BYTES) {
    throw new InvalidBusInputError('message', `message is ${bytes} bytes, over the ${MAX_BUS_MESSAGE_BYTES}-byte limit`);
  }
  return { id, type, body: bodyText, headers: copiedHeaders };
}

function assertShortString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidBusInputError(field, `${field} must be a non-empty string, got ${describe(value)}`);
  }
  if (Buffer.byteLength(value) > MAX_SHORT_STRING_BYTES) {
    throw new InvalidBusInputError(field, `${field} is longer than ${MAX_SHORT_STRING_BYTES} bytes`);
  }
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers) || !isPlain(headers)) {
    throw new InvalidBusInputError('message.headers', 'message.headers must be a plain object of strings');
  }
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const field = `message.headers.${name}`;
    if (name.length === 0 || Buffer.byteLength(name) > MAX_SHORT_STRING_BYTES) {
      throw new InvalidBusInputError('message.headers', `header names must be 1-${MAX_SHORT_STRING_BYTES} bytes`);
    }
    // `x-` headers belong to the bus and the broker (x-death-reason, x-delivery-count, x-death): a
    // publisher's own would be confused with them, or silently overwritten, after a dead-letter.
    if (name.toLowerCase().startsWith('x-')) {
      throw new InvalidBusInputError(field, `header ${JSON.stringify(name)} uses the "x-" prefix reserved for the bus`);
    }
    if (typeof value !== 'string') throw new InvalidBusInputError(field, `${field} must be a string, got ${describe(value)}`);
    copy[name] = value;
  }
  return copy;
}

/** JSON.stringify silently drops or mangles what JSON cannot hold; a message must arrive as it was sent. */
function assertJson(value: unknown, path: string, seen: Set<object>): asserts value is JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidBusInputError(path, `${path} is not a finite number`);
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new InvalidBusInputError(path, `${path} contains a cycle`);
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((item: unknown, i) => assertJson(item, `${path}[${i}]`, seen));
      } else {
        if (!isPlain(value)) throw new InvalidBusInputError(path, `${path} is a class instance, not JSON`);
        for (const [key, item] of Object.entries(value)) assertJson(item, `${path}.${key}`, seen);
      }
      seen.delete(value);
      return;
    }
    default:
      throw new InvalidBusInputError(path, `${path} is ${typeof value}, which JSON cannot hold`);
  }
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
