// Child process of the usage benchmark: runs `usage tail`, the chain check of `audit verify` or the
// raw read they are compared with over (a prefix of) a log, and prints its count, time and peak RSS,
// so no figure is polluted by the parent's heap and all are taken under the same conditions.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { logUpTo } from '../../api/audit/bounded-store.js';
import { checkLogChains } from '../../api/audit/chain-check.js';
import { fileOutput } from '../../api/usage-tail/output.js';
import { tailUsage } from '../../api/usage-tail/tail.js';
import { rawRead } from './raw-read.js';

const [mode, logPath, limitText, outDir] = process.argv.slice(2) as [string, string, string, string];
const store = SqliteEventStore.open(logPath);
const log = limitText === 'all' ? store : logUpTo(store, Number(limitText));
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const started = performance.now();
let count: number;
if (mode === 'raw') {
  count = rawRead(logPath);
} else if (mode === 'tail') {
  const out = join(outDir, `tail-${limitText}.ndjson`);
  // Every run from the start: a checkpoint left by the previous one would make this one write nothing.
  for (const file of [out, `${out}.checkpoint`]) rmSync(file, { force: true });
  const result = await tailUsage({ store: log, checkpointFile: `${out}.checkpoint`, openOutput: (resume) => fileOutput(out, resume, true) });
  count = result.records;
} else {
  const report = await checkLogChains(log, { gapFreePositions: true });
  if (report.problems.length > 0) throw new Error(`the benchmark log fails verification: ${report.problems[0]!.message}`);
  count = report.events;
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
process.stdout.write(JSON.stringify({ count, seconds, peak }));
await store.close();
