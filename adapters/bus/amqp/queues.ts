// Declaring a queue on the broker: a durable quorum queue whose deliveries are limited, with its
// dead-letter queue `<queue>.dead`.
//
// Its `x-delivery-limit` is deliveryLimit - 1 because RabbitMQ counts *returns* (a message is
// dead-lettered when its count of returns exceeds the limit), while the port counts deliveries.
// Dead-lettering goes through the default exchange to `<queue>.dead`, itself a durable quorum queue
// with no limit, using at-least-once dead-lettering so a message is not dropped between the two.
import type { Channel, ChannelModel } from 'amqplib';
import { QueueConflictError } from '../validation.js';
import { deadLetterQueue } from '../port.js';
import { amqpReplyCode, errorText } from './errors.js';
import type { ReportEvent } from './events.js';

export async function declareQueueOn(model: ChannelModel, queue: string, deliveryLimit: number): Promise<void> {
  const dead = deadLetterQueue(queue);
  // A channel of its own: a refused declaration (PRECONDITION_FAILED) closes the channel it ran on.
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    // The dead-letter queue first: if its name is taken by an incompatible queue, nothing is created.
    await declareOrExplain(channel, dead, queue, { 'x-queue-type': 'quorum' });
    await declareOrExplain(channel, queue, queue, {
      'x-queue-type': 'quorum',
      'x-delivery-limit': deliveryLimit - 1,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dead,
      // At-most-once (RabbitMQ's default) could drop a message whose dead-lettering is interrupted;
      // at-least-once needs reject-publish overflow, which only matters with a length limit (none).
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Declares again, on a new connection, every queue declared so far (queue name to delivery limit). */
export async function redeclareQueues(model: ChannelModel, declared: ReadonlyMap<string, number>, report: ReportEvent): Promise<void> {
  // The queues are durable, so this only matters against a broker that lost its data; there a
  // queue another process redeclared differently must not keep the whole bus offline.
  for (const [queue, deliveryLimit] of declared) {
    await declareQueueOn(model, queue, deliveryLimit).catch((error: unknown) => {
      if (!(error instanceof QueueConflictError)) throw error;
      report({ type: 'redeclare-failed', queue, error });
    });
  }
}

async function declareOrExplain(
  channel: Channel,
  name: string,
  declaring: string,
  args: Record<string, string | number>,
): Promise<void> {
  try {
    await channel.assertQueue(name, { durable: true, arguments: args });
  } catch (error) {
    if (amqpReplyCode(error) === 406) {
      throw new QueueConflictError(
        declaring,
        `queue ${JSON.stringify(name)} already exists with other settings than declaring ${JSON.stringify(declaring)} needs ` +
          `(another deliveryLimit, or a dead-letter queue of that name): ${errorText(error)}`,
      );
    }
    throw error;
  }
}
