// Child process: replays a log and prints its peak RSS, so the figure is not polluted by the parent.
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { replayAll } from './replay.js';

const store = SqliteEventStore.open(process.argv[2]!);
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const result = await replayAll(store);
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(JSON.stringify({ ...result, baseline, peak }));
await store.close();
