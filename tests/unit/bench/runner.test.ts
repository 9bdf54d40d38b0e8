// `npm run bench`'s runner: figures leave as they are measured, a failing suite costs only its own
// figures, --only picks suites, and ratios are medians of interleaved rounds with their spread.
import { describe, expect, it } from 'vitest';
import { figurePrinter, type Figure } from '../../bench/report.js';
import { interleaved, median, ratioFigure, spreadFigure } from '../../bench/rounds.js';
import { BenchUsageError, DEFAULT_ROUNDS, parseBenchArgs, runSuites, type Suite } from '../../bench/runner.js';

const IDS = ['eventstore', 'lifecycle', 'api'];

/** stdout and stderr as one ordered transcript, each line tagged with where it went. */
function transcript() {
  const lines: string[] = [];
  const sink = (tag: string) => ({ write: (text: string) => lines.push(...text.trimEnd().split('\n').map((line) => `${tag} ${line}`)) });
  return { lines, out: { stdout: sink('out'), stderr: sink('err') } };
}

const figure = (name: string, value: number): Figure => ({ name, value, unit: 'events/s' });

describe('runSuites', () => {
  it('given a suite that fails after one figure, when the bench runs, then that figure is out before the failure and the next suite still runs', async () => {
    const ran: string[] = [];
    const suites: Suite[] = [
      {
        id: 'eventstore',
        title: 'event store',
        async run({ report }) {
          ran.push('eventstore');
          report(figure('appends', 1000));
          throw new Error('the broker did not start');
        },
      },
      {
        id: 'lifecycle',
        title: 'instance lifecycle',
        async run({ report }) {
          ran.push('lifecycle');
          report(figure('commands', 50));
        },
      },
    ];
    const { lines, out } = transcript();

    const failed = await runSuites(suites, { json: true, only: [], rounds: 1 }, out);

    expect(failed).toEqual(['eventstore']);
    expect(ran).toEqual(['eventstore', 'lifecycle']);
    const appends = lines.indexOf('out {"name":"appends","value":1000,"unit":"events/s"}');
    const failure = lines.findIndex((line) => line.startsWith('err eventstore benchmarks failed: Error: the broker did not start'));
    expect(appends).toBeGreaterThanOrEqual(0);
    expect(failure).toBeGreaterThan(appends);
    expect(lines.indexOf('out {"name":"commands","value":50,"unit":"events/s"}')).toBeGreaterThan(failure);
  });

  it('given --only, when the bench runs, then only the named suites run', async () => {
    const ran: string[] = [];
    const suites: Suite[] = IDS.map((id) => ({ id, title: id, run: async () => void ran.push(id) }));

    await runSuites(suites, parseBenchArgs(['--only', 'api,eventstore'], IDS), transcript().out);

    expect(ran).toEqual(['eventstore', 'api']);
  });

  it('given the rounds asked for, when a suite runs, then it is handed that many', async () => {
    let rounds = 0;
    await runSuites([{ id: 'api', title: 'API', run: async (context) => void (rounds = context.rounds) }], parseBenchArgs(['--rounds=3'], IDS), transcript().out);

    expect(rounds).toBe(3);
  });
});

describe('parseBenchArgs', () => {
  it('given no arguments, then every suite runs as a table with the default rounds', () => {
    expect(parseBenchArgs([], IDS)).toEqual({ json: false, only: [], rounds: DEFAULT_ROUNDS });
  });

  it('given --json and repeated --only, then both are taken', () => {
    expect(parseBenchArgs(['--json', '--only', 'api', '--only=lifecycle'], IDS)).toEqual({ json: true, only: ['api', 'lifecycle'], rounds: DEFAULT_ROUNDS });
  });

  it.each([
    [['--only', 'replay'], /no suite "replay"; the suites are eventstore, lifecycle, api/],
    [['--only'], /--only needs a value/],
    [['--rounds', '0'], /--rounds must be a whole number of at least 1, got "0"/],
    [['--fast'], /unknown argument "--fast"/],
  ])('given %j, then it is refused with a message naming it', (argv, message) => {
    expect(() => parseBenchArgs(argv, IDS)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv, IDS)).toThrow(message);
  });
});

describe('rounds', () => {
  it('given two sides, when measured interleaved, then they take turns round by round', async () => {
    const calls: string[] = [];
    let n = 0;
    const samples = await interleaved(3, {
      raw: () => (calls.push('raw'), ++n),
      replay: async () => (calls.push('replay'), ++n),
    });

    expect(calls).toEqual(['raw', 'replay', 'raw', 'replay', 'raw', 'replay']);
    expect(samples).toEqual({ raw: [1, 3, 5], replay: [2, 4, 6] });
  });

  it('given samples, then the figure is their median with the lowest and highest', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spreadFigure('raw read', 'events/s', [100, 65, 103])).toEqual({ name: 'raw read', unit: 'events/s', value: 100, min: 65, max: 103, runs: 3 });
  });

  it('given a side and its limit, then the ratio is the median of each round’s own ratio', () => {
    // Round 2 is slow on both sides: its own ratio is still 0.5, where a ratio of medians would mix rounds.
    const f = ratioFigure('replay', 'events/s', [50, 20, 60], [100, 40, 100]);

    expect(f).toMatchObject({ value: 50, min: 20, max: 60, runs: 3, ratio: 0.5, ratioMin: 0.5, ratioMax: 0.6 });
  });
});

describe('figurePrinter', () => {
  it('given --json, then each figure is one line with its spread', () => {
    const { lines, out } = transcript();
    figurePrinter(true, out.stdout).print(ratioFigure('replay', 'events/s', [50, 20, 60], [100, 40, 100]));

    expect(lines.map((line) => JSON.parse(line.slice('out '.length)))).toEqual([
      { name: 'replay', value: 50, unit: 'events/s', ratio: 0.5, min: 20, max: 60, runs: 3, ratioMin: 0.5, ratioMax: 0.6 },
    ]);
  });

  it('given a table, then the header comes once, before the first row, and rows show the spread', () => {
    const { lines, out } = transcript();
    const printer = figurePrinter(false, out.stdout);
    printer.print(spreadFigure('raw read', 'events/s', [1000, 650, 1030]));
    printer.print({ name: 'peak RSS', value: 52.5, unit: 'MiB' });

    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^out benchmark +value +unit +min – max +of limit/);
    expect(lines[2]).toMatch(/^out raw read +1,000 +events\/s +650 – 1,030 \(3\)$/);
    expect(lines[3]).toMatch(/^out peak RSS +52\.50 +MiB$/);
  });
});
