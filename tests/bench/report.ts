// How every benchmark reports: a table for people, or one JSON object per line with --json.
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** value ÷ the limit measured in the same run, where the benchmark has one. */
  readonly ratio?: number;
}

export function printFigures(figures: readonly Figure[], json: boolean): void {
  if (json) {
    for (const f of figures) process.stdout.write(`${JSON.stringify(roundFigure(f))}\n`);
    return;
  }
  const rows = figures.map((f) => [f.name, formatNumber(f.value), f.unit, f.ratio === undefined ? '' : `${(f.ratio * 100).toFixed(1)} %`]);
  const header = ['benchmark', 'value', 'unit', 'of limit'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

function roundFigure(f: Figure): Figure {
  const value = Number(f.value.toPrecision(6));
  return f.ratio === undefined ? { ...f, value } : { ...f, value, ratio: Number(f.ratio.toFixed(4)) };
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

export function perSecond(count: number, startedAt: number): number {
  return count / ((performance.now() - startedAt) / 1000);
}
