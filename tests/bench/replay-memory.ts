// Child process: replays (a prefix of) a log and prints its peak RSS, so the figure is not polluted
// by the parent's heap.
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { replayAll } from './replay.js';

const store = SqliteEventStore.open(process.argv[2]!);
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const result = await replayAll(store, Number(process.argv[3] ?? Number.POSITIVE_INFINITY));
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(JSON.stringify({ ...result, peak }));
await store.close();
