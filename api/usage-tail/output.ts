// Where the tail writes. A regular file can be taken back: on resume it is cut to the length the
// checkpoint recorded, dropping records written after the last checkpoint, so a restart repeats
// nothing. A pipe or terminal cannot: what a consumer received before a kill and after the last
// checkpoint comes again (each record carries its position, so such a consumer can drop it).
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { OutputMark } from './checkpoint.js';

export interface TailOutput {
  /** Resolves once the text is written: handed to the kernel, and on disk when the output is durable. */
  write(text: string): Promise<void>;
  /** The mark to checkpoint with the position just written, or null when the output cannot be cut back. */
  mark(): OutputMark | null;
  close(): void;
}

/**
 * Opens a file for appending, or uses an already open descriptor when `target` is a number (stdout
 * redirected with `>>`; with `>` the shell empties the file first, and there is nothing to cut).
 */
export function fileOutput(target: string | number, resume: OutputMark | null, durable: boolean): TailOutput {
  const owned = typeof target === 'string';
  const fd = owned ? openSync(target, 'a') : target;
  const stat = fstatSync(fd);
  if (resume && stat.dev === resume.dev && stat.ino === resume.ino && stat.size > resume.bytes) ftruncateSync(fd, resume.bytes);
  // Smaller or another file: the output was rotated or emptied since, and there is nothing to take back.
  return {
    async write(text) {
      const buffer = Buffer.from(text, 'utf8');
      // At the descriptor's own offset, which a shell shares with the commands after this one; with
      // O_APPEND (`>>`, --output) that is the end of the file, also after a cut.
      for (let done = 0; done < buffer.length; ) done += writeSync(fd, buffer, done, buffer.length - done);
      if (durable) fdatasyncSync(fd);
      // The writes are synchronous: let signals and timers in between batches of a long catch-up.
      await new Promise((resolve) => setImmediate(resolve));
    },
    // The file's length now, not a count of our own bytes: whatever else went into it before is kept.
    mark: () => ({ dev: stat.dev, ino: stat.ino, bytes: fstatSync(fd).size }),
    close() {
      if (owned) closeSync(fd);
    },
  };
}

export function streamOutput(stream: NodeJS.WritableStream): TailOutput {
  return {
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        stream.write(text, (error) => (error ? reject(error) : resolve()));
      }),
    mark: () => null,
    close() {},
  };
}

/** A regular file behind the descriptor gets the file treatment; anything else is written as a stream. */
export function isRegularFile(fd: number): boolean {
  return fstatSync(fd).isFile();
}
