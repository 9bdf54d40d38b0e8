// Publishing: every publish goes through a confirm channel with `mandatory`, so it resolves only once
// the broker holds the message and rejects when no queue of that name exists (basic.return) or on a
// nack. A publish caught in flight by a lost connection is sent again with the same message id, on
// the new connection, until `publishTimeoutMs` runs out, when it rejects with BusUnavailableError. A
// publish is never reported as done without a confirm; a resend after an unconfirmed first attempt
// may deliver twice, which consumers absorb by deduplicating on the message id.
import { IllegalOperationError, type ConfirmChannel, type Message } from 'amqplib';
import { UnknownQueueError, type SerialisedBusMessage } from '../validation.js';
import type { Connection, Link } from './connection.js';
import { ConnectionLostError, PublishNackedError } from './errors.js';
import { sleep } from './timing.js';

export class ConfirmPublisher {
  private publishSequence = 0;
  private readonly returned = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly connection: Connection) {}

  async publish(queue: string, serialised: SerialisedBusMessage): Promise<void> {
    const content = Buffer.from(serialised.body, 'utf8');
    const attempt = this.connection.withRetry(`publish ${JSON.stringify(serialised.id)} to ${JSON.stringify(queue)}`, async (link) => {
      const channel = await this.channel(link);
      await this.publishOnce(channel, queue, serialised, content);
    });
    this.inFlight.add(attempt);
    try {
      await attempt;
    } finally {
      this.inFlight.delete(attempt);
    }
  }

  /** Waits, for at most graceMs, until every publish in flight has its confirm or its rejection. */
  async settle(graceMs: number): Promise<void> {
    if (this.inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inFlight]), sleep(graceMs)]);
    }
  }

  /** The link's confirm channel, opened on first use (and again after the broker closed it). */
  async channel(link: Link): Promise<ConfirmChannel> {
    if (link.publish) return link.publish;
    if (!link.publishOpening) {
      link.publishOpening = (async () => {
        const channel = await link.model.createConfirmChannel();
        channel.on('error', () => undefined);
        channel.on('return', (message: Message) => {
          const token: unknown = message.properties.correlationId;
          if (typeof token === 'string') this.returned.add(token);
        });
        channel.on('close', () => {
          if (link.publish === channel) link.publish = null;
        });
        link.publish = channel;
        return channel;
      })().finally(() => {
        link.publishOpening = null;
      });
    }
    return link.publishOpening;
  }

  private publishOnce(channel: ConfirmChannel, queue: string, message: SerialisedBusMessage, content: Buffer): Promise<void> {
    const token = String(++this.publishSequence);
    return new Promise<void>((resolve, reject) => {
      // RabbitMQ sends the basic.return of an unroutable mandatory message before its basic.ack, so
      // by the time this runs the return, if any, has been recorded under the token.
      const settle = (error: unknown): void => {
        const wasReturned = this.returned.delete(token);
        if (error === null || error === undefined) {
          if (wasReturned) reject(new UnknownQueueError(queue));
          else resolve();
        } else if (error instanceof Error && error.message === 'message nacked') {
          reject(new PublishNackedError(queue, message.id));
        } else {
          reject(new ConnectionLostError(error));
        }
      };
      try {
        channel.publish(
          '',
          queue,
          content,
          {
            mandatory: true,
            persistent: true,
            messageId: message.id,
            type: message.type,
            contentType: 'application/json',
            // Names the attempt a basic.return belongs to. Message ids cannot: the same message can
            // be in flight twice (a resend), and a broker ack may cover several publishes at once.
            // The bus has no other use for correlation-id, and a basic property costs less to
            // write and read than a header table.
            correlationId: token,
            headers: Object.keys(message.headers).length > 0 ? message.headers : undefined,
          },
          settle,
        );
      } catch (error) {
        this.returned.delete(token);
        // amqplib throws this synchronously on a channel that has just closed; anything else (an
        // oversized header table, say) would fail again on a new channel.
        reject(error instanceof IllegalOperationError ? new ConnectionLostError(error) : error);
      }
    });
  }
}
