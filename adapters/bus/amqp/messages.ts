// Reading a bus message back out of what the broker delivers: the publisher's id, type, body and
// headers, plus what the broker adds (the delivery count, the reason a message was dead-lettered).
import type { ConsumeMessage, Message } from 'amqplib';
import type { JsonValue } from '../../eventstore/port.js';
import { DEATH_REASON_HEADER } from '../validation.js';
import type { BusMessage } from '../port.js';

export function decodeMessage(raw: ConsumeMessage): BusMessage {
  const { messageId, type } = raw.properties;
  if (typeof messageId !== 'string' || typeof type !== 'string') throw new Error('message has no message-id or type property');
  const body = JSON.parse(raw.content.toString('utf8')) as JsonValue;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.properties.headers ?? {})) {
    // x- headers belong to the broker and the bus (x-delivery-count, x-death);
    // the port hands out only the publisher's own, plus the death reason below.
    if (typeof value === 'string' && !name.toLowerCase().startsWith('x-')) headers[name] = value;
  }
  const reason = deathReasonOf(raw);
  if (reason !== undefined) headers[DEATH_REASON_HEADER] = reason;
  return { id: messageId, type, body, headers };
}

function deathReasonOf(raw: Message): string | undefined {
  const headers = raw.properties.headers;
  if (!headers) return undefined;
  // x-death lists the most recent death first: that is the one that put the message where it is now.
  const deaths: unknown = headers['x-death'];
  if (Array.isArray(deaths) && deaths.length > 0) {
    const latest: unknown = deaths[0];
    if (typeof latest === 'object' && latest !== null && 'reason' in latest && typeof latest.reason === 'string') {
      return latest.reason;
    }
  }
  const first: unknown = headers['x-first-death-reason'];
  return typeof first === 'string' ? first : undefined;
}

/** The port counts deliveries; the quorum queue's `x-delivery-count` header counts returns so far. */
export function deliveryCountOf(raw: Message): number {
  const returns: unknown = raw.properties.headers?.['x-delivery-count'];
  if (typeof returns === 'number' && Number.isSafeInteger(returns) && returns >= 0) return returns + 1;
  if (typeof returns === 'bigint' && returns >= 0n) return Number(returns) + 1;
  return 1;
}
