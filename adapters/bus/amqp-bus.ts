// The RabbitMQ bus, from where the rest of the code imports it; it lives in ./amqp/ (bus.ts puts the
// modules there together and says what the bus promises beyond the port).
export { AmqpBus } from './amqp/bus.js';
export { BusUnavailableError, PublishNackedError } from './amqp/errors.js';
export type { AmqpBusEvent } from './amqp/events.js';
export type { AmqpBusOptions } from './amqp/options.js';
export { coalesceWrites } from './amqp/socket.js';
