// How every benchmark reports: each figure as soon as it is measured, as a table row for people or as
// one JSON object per line with --json, so a suite that fails later loses none of the figures before.
export interface Figure {
  readonly name: string;
  /** The median over the rounds, where the figure was measured in several. */
  readonly value: number;
  readonly unit: string;
  /** value ÷ the limit measured in the same run: the median of each round's own ratio. */
  readonly ratio?: number;
  /** The spread of `value` over its rounds: the lowest and the highest. */
  readonly min?: number;
  readonly max?: number;
  /** How many rounds `value` is the median of. */
  readonly runs?: number;
  /** The spread of `ratio` over the rounds. */
  readonly ratioMin?: number;
  readonly ratioMax?: number;
}

export interface Output {
  write(text: string): void;
}

export interface FigurePrinter {
  print(figure: Figure): void;
}

const COLUMNS = [
  { title: 'benchmark', width: 76, right: false },
  { title: 'value', width: 12, right: true },
  { title: 'unit', width: 11, right: false },
  { title: 'min – max', width: 25, right: false },
  { title: 'of limit (min – max)', width: 0, right: false },
] as const;

/** Prints figures one by one; the table's header comes with the first row. */
export function figurePrinter(json: boolean, out: Output): FigurePrinter {
  let headed = false;
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (COLUMNS[i]!.right ? cell.padStart(COLUMNS[i]!.width) : cell.padEnd(COLUMNS[i]!.width)))
      .join('  ')
      .trimEnd();
  return {
    print(figure) {
      if (json) {
        out.write(`${JSON.stringify(roundFigure(figure))}\n`);
        return;
      }
      if (!headed) {
        headed = true;
        out.write(`${line(COLUMNS.map((c) => c.title))}\n${line(COLUMNS.map((c) => '-'.repeat(Math.max(c.width, c.title.length))))}\n`);
      }
      out.write(`${line(row(figure))}\n`);
    },
  };
}

function row(f: Figure): string[] {
  const spread = f.min === undefined || f.max === undefined ? '' : `${formatNumber(f.min)} – ${formatNumber(f.max)}${f.runs ? ` (${f.runs})` : ''}`;
  const percent = (r: number) => `${(r * 100).toFixed(1)} %`;
  const ratio =
    f.ratio === undefined ? '' : f.ratioMin === undefined || f.ratioMax === undefined ? percent(f.ratio) : `${percent(f.ratio)} (${percent(f.ratioMin)} – ${percent(f.ratioMax)})`;
  return [f.name, formatNumber(f.value), f.unit, spread, ratio];
}

function roundFigure(f: Figure): Figure {
  const significant = (v: number | undefined) => (v === undefined ? undefined : Number(v.toPrecision(6)));
  const fixed = (v: number | undefined) => (v === undefined ? undefined : Number(v.toFixed(4)));
  const rounded: Record<string, unknown> = {
    name: f.name,
    value: significant(f.value),
    unit: f.unit,
    ratio: fixed(f.ratio),
    min: significant(f.min),
    max: significant(f.max),
    runs: f.runs,
    ratioMin: fixed(f.ratioMin),
    ratioMax: fixed(f.ratioMax),
  };
  return Object.fromEntries(Object.entries(rounded).filter(([, v]) => v !== undefined)) as unknown as Figure;
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

export function perSecond(count: number, startedAt: number): number {
  return count / ((performance.now() - startedAt) / 1000);
}
