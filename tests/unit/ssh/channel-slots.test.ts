import { describe, expect, it } from 'vitest';
import { ChannelSlots } from '../../../adapters/ssh/channel-slots.js';
import { LineSplitter } from '../../../adapters/ssh/line-splitter.js';

describe('channel slots', () => {
  it('grants up to the capacity at once and the rest in order as slots are freed', async () => {
    const slots = new ChannelSlots(2);
    const order: number[] = [];
    const releases = await Promise.all([slots.acquire(), slots.acquire()]);
    const waiting = [3, 4].map((n) => slots.acquire().then((release) => (order.push(n), release)));
    await Promise.resolve();
    expect(slots.busy).toBe(2);
    expect(slots.queued).toBe(2);
    releases[0]!();
    releases[0]!(); // a second release of the same slot changes nothing
    const third = await waiting[0]!;
    expect(order).toEqual([3]);
    expect(slots.busy).toBe(2);
    releases[1]!();
    await waiting[1];
    expect(order).toEqual([3, 4]);
    third();
    expect(slots.busy).toBe(1);
  });

  it('fails the waiting acquisitions when refused', async () => {
    const slots = new ChannelSlots(1);
    await slots.acquire();
    const waiting = slots.acquire();
    slots.refuseWaiting(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
  });

  it('refuses a capacity below one', () => {
    expect(() => new ChannelSlots(0)).toThrow(RangeError);
  });
});

describe('line splitter', () => {
  it('joins lines split across chunks and UTF-8 characters split across buffers', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from("event 'lifecycle' for domain 'ä': Started Booted\r\nsecond\nthi");
    splitter.push(bytes.subarray(0, 30));
    splitter.push(bytes.subarray(30, 31)); // half of the ä
    splitter.push(bytes.subarray(31));
    expect(lines).toEqual(["event 'lifecycle' for domain 'ä': Started Booted", 'second']);
    splitter.push('rd');
    splitter.end();
    expect(lines.at(-1)).toBe('third');
  });
});
