import { describe, expect, it } from 'vitest';
import { eventually } from '../../../adapters/hypervisor/conformance.js';
import type { PowerStateChange } from '../../../adapters/hypervisor/driver.js';
import { PowerStateWatch, type EventStream } from '../../../adapters/hypervisor/libvirt/power-state-watch.js';
import type { LifecycleEvent, ListedDomain } from '../../../adapters/hypervisor/libvirt/virsh-output.js';

/** A host whose domain states the test sets, with a controllable event stream and list calls. */
class FakeHost {
  readonly states = new Map<string, 'running' | 'stopped'>();
  lists = 0;
  streams = 0;
  emitEvent: ((event: LifecycleEvent) => void) | null = null;
  endStream: ((error?: Error) => void) | null = null;
  /** When set, the next list waits for it: a read that is under way while the test acts. */
  hold: Promise<void> | null = null;

  readonly source = {
    list: async (): Promise<ListedDomain[]> => {
      this.lists++;
      const snapshot = [...this.states].map(([instanceName, powerState]) => ({ instanceName, powerState }));
      const hold = this.hold;
      this.hold = null;
      if (hold) await hold;
      return snapshot;
    },
    events: (onEvent: (event: LifecycleEvent) => void): EventStream => {
      this.streams++;
      this.emitEvent = onEvent;
      let settle: (error?: Error) => void = () => {};
      const exited = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      this.endStream = settle;
      return { exited, stop: () => settle() };
    },
  };

  event(instanceName: string): void {
    this.emitEvent?.({ instanceName, event: 'Stopped', detail: 'Shutdown' });
  }
}

function setup(pollIntervalMs = 60_000) {
  const host = new FakeHost();
  const errors: unknown[] = [];
  const watch = new PowerStateWatch(host.source, { pollIntervalMs, restartDelayMs: 20, onError: (error) => errors.push(error) });
  const heard: PowerStateChange[] = [];
  return { host, watch, errors, heard, listen: () => watch.subscribe((change) => heard.push(change)) };
}

const settled = async (host: FakeHost, lists: number) => eventually(() => host.lists >= lists, 2_000, `${lists} reads`);

/** Listening, with vm-1 running and the first read (which learns the domains) done. */
async function watchingOneRunningDomain() {
  const watching = setup();
  watching.host.states.set('vm-1', 'running');
  watching.listen();
  await settled(watching.host, 1);
  return watching;
}
const quiet = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('power-state watch', () => {
  it('reports a domain that stopped by itself when an event says something happened', async () => {
    const { host, heard } = await watchingOneRunningDomain();
    expect(heard).toEqual([]); // the first read learns the domains
    host.states.set('vm-1', 'stopped');
    host.event('vm-1');
    await eventually(() => heard.length > 0, 2_000, 'the change');
    expect(heard).toEqual([{ instanceName: 'vm-1', powerState: 'stopped' }]);
    host.event('vm-1'); // a repeated or late event: nothing new
    await settled(host, 3);
    await quiet();
    expect(heard).toHaveLength(1);
  });

  it('reports domains that appear and disappear behind its back', async () => {
    const { host, heard, listen } = setup();
    listen();
    await settled(host, 1);
    host.states.set('vm-new', 'stopped');
    host.event('vm-new');
    await eventually(() => heard.length === 1, 2_000, 'the new domain');
    host.states.delete('vm-new');
    host.event('vm-new');
    await eventually(() => heard.length === 2, 2_000, 'the removal');
    expect(heard).toEqual([
      { instanceName: 'vm-new', powerState: 'stopped' },
      { instanceName: 'vm-new', powerState: 'missing' },
    ]);
  });

  it('does not report what the driver did, even when the event arrives after the operation', async () => {
    const { host, watch, heard } = await watchingOneRunningDomain();
    watch.begin('vm-1');
    host.states.set('vm-1', 'stopped');
    host.event('vm-1'); // seen during the operation
    await settled(host, 2);
    watch.settle('vm-1', 'stopped');
    host.event('vm-1'); // seen after it
    await settled(host, 3);
    watch.begin('vm-1');
    host.states.set('vm-1', 'running');
    watch.settle('vm-1', 'running');
    host.event('vm-1');
    await settled(host, 4);
    await quiet();
    expect(heard).toEqual([]);
  });

  it('ignores a read that was under way when the driver settled the domain', async () => {
    const { host, watch, heard } = await watchingOneRunningDomain();
    // A read takes its snapshot (stopped, mid-operation), then the driver starts the domain and
    // settles it running, then the read's result arrives: it must not report `stopped`.
    host.states.set('vm-1', 'stopped');
    let release: () => void = () => {};
    host.hold = new Promise((resolve) => (release = resolve));
    host.event('vm-1');
    await settled(host, 2);
    watch.begin('vm-1');
    watch.settle('vm-1', 'running');
    host.states.set('vm-1', 'running');
    release();
    await quiet();
    expect(heard).toEqual([]);
  });

  it('takes the next read as it is after an operation that left the state unknown', async () => {
    const { host, watch, heard } = await watchingOneRunningDomain();
    watch.begin('vm-1');
    host.states.set('vm-1', 'stopped');
    watch.settle('vm-1', null);
    host.event('vm-1');
    await settled(host, 2);
    await quiet();
    expect(heard).toEqual([]);
    host.states.set('vm-1', 'running');
    host.event('vm-1');
    await eventually(() => heard.length === 1, 2_000, 'the next change');
    expect(heard).toEqual([{ instanceName: 'vm-1', powerState: 'running' }]);
  });

  it('on subscribing, reports changes of the domains the driver had settled', async () => {
    const { host, watch, heard, listen } = setup();
    watch.begin('vm-1');
    watch.settle('vm-1', 'running');
    host.states.set('vm-1', 'stopped'); // powered off while nobody listened
    host.states.set('vm-2', 'stopped'); // never seen: learnt silently
    listen();
    await eventually(() => heard.length === 1, 2_000, 'the change');
    expect(heard).toEqual([{ instanceName: 'vm-1', powerState: 'stopped' }]);
  });

  it('polls, so a change without an event is found too', async () => {
    const { host, heard, listen } = setup(25);
    host.states.set('vm-1', 'running');
    listen();
    await settled(host, 1);
    host.states.set('vm-1', 'stopped');
    await eventually(() => heard.length === 1, 2_000, 'the change by polling');
  });

  it('restarts an event stream that ended or failed, and reads what it may have missed', async () => {
    const { host, errors, listen } = setup();
    listen();
    await settled(host, 1);
    host.endStream?.(new Error('connection lost'));
    await eventually(() => host.streams === 2, 2_000, 'the restart');
    expect(errors).toEqual([new Error('connection lost')]);
    await settled(host, 2);
    host.endStream?.();
    await eventually(() => host.streams === 3, 2_000, 'the second restart');
  });

  it('tells every listener even when one throws, and stops watching when the last one leaves', async () => {
    const { host, watch, heard, errors } = setup(25);
    host.states.set('vm-1', 'running');
    const first = watch.subscribe(() => {
      throw new Error('listener failed');
    });
    const second = watch.subscribe((change) => heard.push(change));
    await settled(host, 1);
    host.states.set('vm-1', 'stopped');
    await eventually(() => heard.length === 1, 2_000, 'the change');
    expect(errors).toContainEqual(new Error('listener failed'));
    first();
    second();
    const lists = host.lists;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(host.lists).toBeLessThanOrEqual(lists + 1);
    expect(host.streams).toBe(1);
  });
});
