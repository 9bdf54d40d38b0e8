import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../../adapters/bus/port.js';
import { MAX_PROGRESS_STEP, ProgressSender } from '../../../adapters/hypervisor/progress.js';
import { parseAgentProgress } from '../../../adapters/hypervisor/parse-reports.js';

const COMMAND = '4f2d8a61-93c7-4e0b-a5d2-6c1b7e9f3a08.2';
const HOST = '6b0f3c1e-3f43-4a55-9d0e-1c2b3a4d5e6f';

function sender(sent: BusMessage[], failFirst = false) {
  let failures = failFirst ? 1 : 0;
  const errors: unknown[] = [];
  const progress = new ProgressSender({
    commandId: COMMAND,
    hostId: HOST,
    command: 'ConvertVmwareGuest',
    clock: () => new Date('2026-12-07T22:00:00Z'),
    onError: (error) => errors.push(error),
    send: async (message) => {
      if (failures-- > 0) throw new Error('bus down');
      sent.push(JSON.parse(JSON.stringify(message)) as BusMessage);
    },
  });
  return { progress, errors };
}

describe('ProgressSender', () => {
  it('sends only when the integer percent or the step changes, never lets the percent fall, and numbers the messages', async () => {
    const sent: BusMessage[] = [];
    const { progress } = sender(sent);
    progress.update({ stage: 'export', step: 'Exporting', percent: 0 });
    progress.update({ stage: 'export', step: 'Exporting', percent: 0.4 });
    progress.update({ stage: 'export', step: 'Exporting', percent: 1.2 });
    progress.update({ stage: 'export', step: 'Exporting', percent: 1.9 });
    progress.update({ stage: 'convert', step: 'Opening   the\nsource', percent: 0.5 });
    progress.update({ stage: 'convert', step: 'Copying disk 1/1', percent: 250 });
    await progress.flush();
    const bodies = sent.map((message) => parseAgentProgress(message));
    expect(bodies.every((parsed) => parsed.ok)).toBe(true);
    expect(bodies.map((parsed) => (parsed.ok ? [parsed.value.seq, parsed.value.stage, parsed.value.step, parsed.value.percent] : null))).toEqual([
      [1, 'export', 'Exporting', 0],
      [2, 'export', 'Exporting', 1],
      [3, 'convert', 'Opening the source', 1],
      [4, 'convert', 'Copying disk 1/1', 100],
    ]);
  });

  it('drops a message the bus refuses, says so, and goes on', async () => {
    const sent: BusMessage[] = [];
    const { progress, errors } = sender(sent, true);
    progress.update({ stage: 'copy', step: 'a', percent: 10 });
    progress.update({ stage: 'copy', step: 'b', percent: 20 });
    await progress.flush();
    expect(errors).toHaveLength(1);
    expect(sent.map((message) => (message.body as { step: string }).step)).toEqual(['b']);
  });

  it('cuts a long step to one bounded line', async () => {
    const sent: BusMessage[] = [];
    const { progress } = sender(sent);
    progress.update({ stage: 'convert', step: 'x'.repeat(5000), percent: 30 });
    await progress.flush();
    expect((sent[0]?.body as { step: string }).step).toHaveLength(MAX_PROGRESS_STEP);
  });
});

describe('parseAgentProgress', () => {
  const body = { type: 'AgentProgress', commandId: COMMAND, hostId: HOST, command: 'ConvertVmwareGuest', stage: 'convert', step: 'Inspecting the source', percent: 40, seq: 3, at: '2026-12-07T22:00:00.000Z' };
  const parse = (b: Record<string, unknown>) => parseAgentProgress({ id: 'p-1', type: 'AgentProgress', body: b as unknown as BusMessage['body'] });

  it('reads a well-formed progress message and refuses one out of range', () => {
    expect(parse(body)).toEqual({ ok: true, value: body });
    expect(parse({ ...body, percent: 101 })).toMatchObject({ ok: false, reason: expect.stringMatching(/percent/) });
    expect(parse({ ...body, stage: 'teleport' })).toMatchObject({ ok: false, reason: expect.stringMatching(/stage/) });
    expect(parse({ ...body, command: 'Format' })).toMatchObject({ ok: false, reason: expect.stringMatching(/not an agent command/) });
    expect(parse({ ...body, seq: 0 })).toMatchObject({ ok: false, reason: expect.stringMatching(/seq/) });
  });
});
