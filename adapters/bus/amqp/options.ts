// How the RabbitMQ bus is tuned and observed.
import type { Delivery } from '../port.js';
import type { AmqpBusEvent } from './events.js';

export interface AmqpBusOptions {
  /** Sees every error a handler throws (the delivery is then nacked with requeue); for logging. */
  readonly onHandlerError?: (error: unknown, delivery: Delivery) => void;
  /** Connection loss, reconnection and consumer trouble; defaults to console.warn. */
  readonly onEvent?: (event: AmqpBusEvent) => void;
  /** How long connect() keeps trying before it gives up. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** How long a publish or declareQueue waits for a (re)connection and retries before it rejects. Default 30 s. */
  readonly publishTimeoutMs?: number;
  /** Reconnect backoff: doubles from the first delay up to the maximum, with ±20 % jitter. Defaults 100 ms and 5 s. */
  readonly reconnectDelayMs?: { readonly initial?: number; readonly max?: number };
  /** AMQP heartbeat, which is what notices a broker that vanished without closing the socket. Default 10 s. */
  readonly heartbeatSeconds?: number;
}
