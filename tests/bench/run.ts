// `npm run bench [-- --json] [--only <suite>[,<suite>…]] [--rounds <n>]`: runs the benchmark suites
// and prints each figure as it is measured (runner.ts).
import { affinityFigures } from './affinity.bench.js';
import { eventStoreFigures } from './eventstore.bench.js';
import { importFigures } from './import.bench.js';
import { apiFigures } from './api.bench.js';
import { busFigures } from './bus.bench.js';
import { libvirtFigures, libvirtSnapshotFigures } from './libvirt.bench.js';
import { lifecycleFigures } from './lifecycle.bench.js';
import { scaleFigures } from './scale.bench.js';
import { snapshotFigures } from './snapshots.bench.js';
import { timerFigures } from './timers.bench.js';
import { BenchUsageError, parseBenchArgs, runSuites, type Suite } from './runner.js';
import { usageFigures } from './usage.bench.js';
import { v2vFigures } from './v2v.bench.js';

const suites: readonly Suite[] = [
  { id: 'eventstore', title: 'event store', run: eventStoreFigures },
  { id: 'lifecycle', title: 'instance lifecycle', run: lifecycleFigures },
  { id: 'timers', title: 'durable timers and leases', run: timerFigures },
  { id: 'api', title: 'GraphQL API', run: apiFigures },
  { id: 'affinity', title: 'affinity groups and the host planner', run: affinityFigures },
  { id: 'snapshots', title: 'VM snapshots on simulated hosts', run: snapshotFigures },
  { id: 'usage', title: 'usage consumers and auditors', run: usageFigures },
  { id: 'bus', title: 'bus through RabbitMQ', run: busFigures },
  { id: 'libvirt', title: 'libvirt hosts', run: libvirtFigures },
  { id: 'libvirt-snapshots', title: 'VM snapshots on a libvirt host', run: libvirtSnapshotFigures },
  { id: 'v2v', title: 'VMware guest converted to KVM on a libvirt host', run: v2vFigures },
  { id: 'import', title: 'external import over a 400 Mbit/s link', run: importFigures },
  { id: 'scale', title: 'scale: the main job over logs of 10,000 to 1,000,000 instances', run: scaleFigures },
];

try {
  const options = parseBenchArgs(process.argv.slice(2), suites.map((suite) => suite.id));
  const failed = await runSuites(suites, options, { stdout: process.stdout, stderr: process.stderr });
  if (failed.length > 0) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
} catch (error) {
  if (!(error instanceof BenchUsageError)) throw error;
  process.stderr.write(`npm run bench: ${error.message}\n`);
  process.exitCode = 2;
}
