// What virt-v2v prints while it converts (`--machine-readable`, virt-v2v 2.2), turned into progress
// of the whole ConvertVmwareGuest command. It prints each step twice, as JSON
// (`{ "message": "Opening the source", "timestamp": …, "type": "message" }`; also "warning" and
// "error") and as `[  27.1] Opening the source`; while copying a disk, `N/M` lines (N of M done).
// A step's percent comes from where it falls in a conversion (measured here: the appliance boot in
// "Opening the source" and the guest's initrd rebuild in "Converting …" take most of the time),
// the copy's from its N/M or its progress bar (`▐  46% [*******------]`, redrawn after each \r),
// the copy's from its N/M; the export before it is the first EXPORT_SHARE of the command.
import type { ProgressUpdate } from '../driver.js';

/** The part of ConvertVmwareGuest's progress the export takes (0..EXPORT_SHARE). */
export const EXPORT_SHARE = 20;

/** Where each step starts, in percent of the whole command; matched on the step's first words. */
const STEPS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^Setting up the source/, 21],
  [/^Opening the source/, 22],
  [/^Inspecting the source/, 40],
  [/^Checking for sufficient free disk space/, 45],
  [/^Converting /, 46],
  [/^Mapping filesystem data/, 80],
  [/^Closing the overlay/, 82],
  [/^Assigning disks to buses/, 83],
  [/^Checking if the guest needs BIOS or UEFI/, 84],
  [/^Setting up the destination/, 85],
  [/^Copying disk/, 86],
  [/^Creating output metadata/, 98],
  [/^Finishing off/, 99],
];
/** "Copying disk i/n" spans from 86 to here. */
const COPY_END = 97;

export type V2vLine =
  | { readonly kind: 'step'; readonly text: string }
  | { readonly kind: 'progress'; readonly done: number; readonly of: number }
  | { readonly kind: 'warning' | 'error'; readonly text: string }
  | { readonly kind: 'other'; readonly text: string };

/** Colour and other terminal escapes: on a pseudo-terminal virt-v2v colours its step lines. */
const TERMINAL_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** One line of virt-v2v's standard output. */
export function parseV2vLine(line: string): V2vLine {
  const text = line.replace(TERMINAL_ESCAPE, '').trim();
  const fraction = /^(\d+)\/(\d+)$/.exec(text);
  if (fraction) return { kind: 'progress', done: Number(fraction[1]), of: Number(fraction[2]) };
  const bar = /(\d{1,3})% \[[*-]+\]\s*$/.exec(text);
  if (bar) return { kind: 'progress', done: Number(bar[1]), of: 100 };
  const stamped = /^\[\s*\d+(?:\.\d+)?\]\s+(.*)$/.exec(text);
  if (stamped) return { kind: 'step', text: stamped[1] ?? '' };
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown; type?: unknown };
      if (typeof parsed.message === 'string' && (parsed.type === 'warning' || parsed.type === 'error')) return { kind: parsed.type, text: parsed.message };
      // A "message" is the step the stamped line repeats: counted once, from that line.
      if (typeof parsed.message === 'string') return { kind: 'other', text: parsed.message };
    } catch {
      // not JSON after all
    }
  }
  return { kind: 'other', text };
}

/** Reads virt-v2v's lines in order and says how far the conversion has got; errors it printed are kept. */
export class V2vProgress {
  private step = 'Starting virt-v2v';
  private percent = EXPORT_SHARE;
  private copying: { disk: number; disks: number } | null = null;
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  /** The update a line brings, or null when it changes nothing. */
  line(line: string): ProgressUpdate | null {
    const parsed = parseV2vLine(line);
    if (parsed.kind === 'error') this.errors.push(parsed.text);
    if (parsed.kind === 'warning') this.warnings.push(parsed.text);
    if (parsed.kind === 'step') {
      this.step = parsed.text;
      const start = STEPS.find(([pattern]) => pattern.test(parsed.text))?.[1];
      const copy = /^Copying disk (\d+)\/(\d+)/.exec(parsed.text);
      this.copying = copy ? { disk: Number(copy[1]), disks: Math.max(1, Number(copy[2])) } : null;
      if (this.copying) this.percent = Math.max(this.percent, this.copyPercent(0));
      else if (start !== undefined) this.percent = Math.max(this.percent, start);
      return this.update();
    }
    if (parsed.kind === 'progress' && this.copying && parsed.of > 0) {
      this.percent = Math.max(this.percent, this.copyPercent(Math.min(1, parsed.done / parsed.of)));
      return this.update();
    }
    return null;
  }

  private copyPercent(fraction: number): number {
    const { disk, disks } = this.copying ?? { disk: 1, disks: 1 };
    const start = STEPS.find(([pattern]) => pattern.test('Copying disk'))?.[1] ?? 86;
    return start + ((COPY_END - start) * (disk - 1 + fraction)) / disks;
  }

  private update(): ProgressUpdate {
    return { stage: 'convert', step: this.step, percent: this.percent };
  }
}
