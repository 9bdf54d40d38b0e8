// `npm run bench [-- --json]`: runs every benchmark and prints its figures.
import { eventStoreFigures } from './eventstore.bench.js';
import { apiFigures } from './api.bench.js';
import { busFigures } from './bus.bench.js';
import { libvirtFigures } from './libvirt.bench.js';
import { lifecycleFigures } from './lifecycle.bench.js';
import { printFigures, type Figure } from './report.js';
import { usageFigures } from './usage.bench.js';

const json = process.argv.includes('--json');
const suites: Array<[string, () => Promise<Figure[]>]> = [
  ['event store', eventStoreFigures],
  ['instance lifecycle', lifecycleFigures],
  ['GraphQL API', apiFigures],
  ['usage consumers and auditors', usageFigures],
  ['bus through RabbitMQ', busFigures],
  ['libvirt hosts', libvirtFigures],
];
const all: Figure[] = [];
for (const [name, run] of suites) {
  if (!json) process.stderr.write(`running ${name} benchmarks…\n`);
  all.push(...(await run()));
}
printFigures(all, json);
