// What the RabbitMQ bus reports about itself (connection loss, reconnection, consumer trouble), and
// the default report: a warning on the console.
import { errorText } from './errors.js';

export type AmqpBusEvent =
  | { readonly type: 'disconnected'; readonly error: unknown }
  | { readonly type: 'reconnect-failed'; readonly attempt: number; readonly error: unknown; readonly retryInMs: number }
  | { readonly type: 'reconnected'; readonly attempts: number; readonly downForMs: number }
  | { readonly type: 'consumer-failed'; readonly queue: string; readonly error: unknown; readonly retryInMs: number }
  | { readonly type: 'redeclare-failed'; readonly queue: string; readonly error: unknown }
  | { readonly type: 'undecodable-message'; readonly queue: string; readonly error: unknown };

export type ReportEvent = (event: AmqpBusEvent) => void;

/** Hands events to onEvent, or else warns on the console about all but failed reconnect attempts. */
export function eventReporter(onEvent: ((event: AmqpBusEvent) => void) | undefined): ReportEvent {
  return (event) => {
    try {
      if (onEvent) onEvent(event);
      else if (event.type !== 'reconnect-failed') console.warn(`amqp bus: ${describeEvent(event)}`);
    } catch {
      // Logging must not break the bus.
    }
  };
}

function describeEvent(event: AmqpBusEvent): string {
  switch (event.type) {
    case 'disconnected':
      return `connection lost (${errorText(event.error)}); reconnecting`;
    case 'reconnect-failed':
      return `reconnect attempt ${event.attempt} failed (${errorText(event.error)}); next in ${event.retryInMs} ms`;
    case 'reconnected':
      return `reconnected after ${event.downForMs} ms (${event.attempts} attempt${event.attempts === 1 ? '' : 's'})`;
    case 'consumer-failed':
      return `consumer of ${event.queue} failed (${errorText(event.error)}); retrying in ${event.retryInMs} ms`;
    case 'redeclare-failed':
      return `could not redeclare ${event.queue} after reconnecting: ${errorText(event.error)}`;
    case 'undecodable-message':
      return `dead-lettered an undecodable message from ${event.queue}: ${errorText(event.error)}`;
  }
}
