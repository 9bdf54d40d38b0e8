// An agent's progress messages for a long command (a conversion, a remote copy): the driver tells its
// listener as often as it likes (every line virt-v2v prints); this sends an AgentProgress only when
// the integer percent or the step changes, never lets the percent go back, numbers the messages of
// the run, and sends them one after another on the reply path, so they arrive in order and before
// the command's reply (`flush` is awaited before the reply goes out). Progress is advisory: a message
// that cannot be sent is reported and dropped, and the command goes on.
import { randomUUID } from 'node:crypto';
import type { BusMessage } from '../bus/port.js';
import type { AgentCommandType, AgentProgress } from '../../domain/agent-protocol/index.js';
import type { ProgressListener, ProgressUpdate } from './driver.js';

/** Longest step text sent: virt-v2v's step lines are short; anything longer is cut. */
export const MAX_PROGRESS_STEP = 200;

export interface ProgressSenderOptions {
  readonly commandId: string;
  readonly hostId: string;
  readonly command: AgentCommandType;
  readonly send: (message: BusMessage) => Promise<void>;
  readonly clock: () => Date;
  readonly onError: (error: unknown, context: string) => void;
}

export function progressMessage(progress: AgentProgress): BusMessage {
  // A fresh id: progress messages are not deduplicated (a command run again reports again).
  return { id: `progress-${randomUUID()}`, type: progress.type, body: progress as unknown as BusMessage['body'] };
}

export class ProgressSender {
  private last: { percent: number; step: string } | null = null;
  private seq = 0;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProgressSenderOptions) {}

  readonly listener: ProgressListener = (update) => this.update(update);

  update(update: ProgressUpdate): void {
    const percent = Math.max(this.last?.percent ?? 0, Math.min(100, Math.max(0, Math.floor(Number.isFinite(update.percent) ? update.percent : 0))));
    const step = oneLine(update.step);
    if (this.last !== null && this.last.percent === percent && this.last.step === step) return;
    this.last = { percent, step };
    this.seq += 1;
    const { commandId, hostId, command, clock } = this.options;
    const message = progressMessage({ type: 'AgentProgress', commandId, hostId, command, stage: update.stage, step, percent, seq: this.seq, at: clock().toISOString() });
    this.sending = this.sending.then(() =>
      this.options.send(message).catch((error: unknown) => this.options.onError(error, `sending progress ${this.seq} of command ${commandId}`)),
    );
  }

  /** Resolves once every progress message so far has been handed to the bus. */
  flush(): Promise<void> {
    return this.sending;
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_PROGRESS_STEP ? `${line.slice(0, MAX_PROGRESS_STEP - 1)}…` : line;
}
