// Figures on a shared machine move by a third from one run to the next. A ratio's two sides are
// therefore measured interleaved (one of each per round, in turn, several rounds), so a busy moment
// falls on both sides rather than on one, and each figure is the median of its rounds with the
// spread beside it.
import type { Figure } from './report.js';

export type Samples<K extends string> = Record<K, number[]>;

/**
 * Measures every side once per round, in the order given, `rounds` times. Returns each side's
 * samples in round order, so that sample i of two sides were taken next to each other.
 */
export async function interleaved<K extends string>(rounds: number, sides: Readonly<Record<K, () => number | Promise<number>>>): Promise<Samples<K>> {
  const names = Object.keys(sides) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Samples<K>;
  for (let round = 0; round < rounds; round++) {
    for (const name of names) samples[name].push(await sides[name]());
  }
  return samples;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('the median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A figure measured in several rounds: their median, lowest and highest. */
export function spreadFigure(name: string, unit: string, samples: readonly number[]): Figure {
  return { name, unit, value: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length };
}

/**
 * A figure beside its limit, both measured in the same rounds: its own spread, and the ratio of
 * each round's sample to that round's limit, summarised the same way.
 */
export function ratioFigure(name: string, unit: string, samples: readonly number[], limit: readonly number[]): Figure {
  if (samples.length !== limit.length) throw new Error(`${name}: ${samples.length} samples against ${limit.length} of its limit`);
  const ratios = samples.map((sample, i) => sample / limit[i]!);
  return { ...spreadFigure(name, unit, samples), ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
}
