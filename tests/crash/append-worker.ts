// Child process of the crash test: appends batches under load and prints each acknowledged batch,
// while a read model follows the log in the same process. The parent kills it with SIGKILL.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { ReadModel } from '../../projections/read-model.js';
import { eventCounts } from './event-counts.js';

const dir = process.argv[2]!;
const worker = process.argv[3]!;
const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
await ReadModel.open({ store, projections: [eventCounts], directory: dir, batchSize: 7 });

let sequence = 0;
async function writer(w: number): Promise<never> {
  for (;;) {
    const batch = `${worker}-${w}-${sequence++}`;
    const size = 1 + (sequence % 5);
    const stream = `crash-${sequence % 40}`;
    const events = Array.from({ length: size }, (_, index) => ({
      id: randomUUID(),
      type: 'CrashTestEvent',
      data: { batch, index, size, padding: 'x'.repeat(sequence % 300) },
    }));
    try {
      const result = await store.append(stream, events, 'any');
      process.stdout.write(`ack ${batch} ${stream} ${result.positions.join(',')}\n`);
    } catch (error) {
      process.stderr.write(`append failed: ${String(error)}\n`);
      process.exit(1);
    }
  }
}

for (let w = 0; w < 16; w++) void writer(w);
