// The tail's checkpoint: the last log position whose records are durably written, and how long the
// output file was then. Replaced atomically (temp file, fsync, rename, fsync of the directory), so a
// kill leaves either the old checkpoint or the new one, never a torn one.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the output file stood when the checkpoint was taken: bytes past it were written after, and are dropped. */
export interface OutputMark {
  readonly dev: number;
  readonly ino: number;
  readonly bytes: number;
}

export interface TailCheckpoint {
  readonly position: number;
  /** Null when the output is a pipe or a terminal, which cannot be taken back. */
  readonly output: OutputMark | null;
}

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`checkpoint ${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

export function readCheckpoint(file: string): TailCheckpoint | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Written by rename only, so a torn file means someone else wrote it: refuse rather than guess a position.
    throw new CheckpointError(file, 'is not JSON');
  }
  const { position, output } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { position?: unknown; output?: unknown };
  if (!isCount(position)) throw new CheckpointError(file, 'has no position');
  if (output === null || output === undefined) return { position, output: null };
  const { dev, ino, bytes } = output as { dev?: unknown; ino?: unknown; bytes?: unknown };
  if (!isCount(dev) || !isCount(ino) || !isCount(bytes)) throw new CheckpointError(file, 'has a malformed output mark');
  return { position, output: { dev, ino, bytes } };
}

export function writeCheckpoint(file: string, checkpoint: TailCheckpoint): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(checkpoint)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  // The rename is durable only once the directory entry is.
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
