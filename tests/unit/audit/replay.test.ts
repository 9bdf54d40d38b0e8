// `audit replay --as-of` folds the log itself; virtualMachineAsOf answers through the control plane.
// At any moment of any instance's life the two agree.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../adapters/eventstore/port.js';
import { replayStream, replayStreams, type InstanceReplay, type StreamReplay } from '../../../api/audit/replay.js';
import { INSTANCE_STREAM_PREFIX, instanceStream } from '../../../domain/instance/index.js';
import { zoneStream } from '../../../domain/zone/index.js';
import { buildStackLog, type StackLog } from './stack-log.js';

describe('audit replay', () => {
  let log: StackLog;
  const times = new Map<string, number[]>();
  beforeAll(async () => {
    log = await buildStackLog();
    for (const id of Object.values(log.instances)) {
      const events: RecordedEvent[] = await log.store.readStream(instanceStream(id));
      times.set(id, events.map((e) => Date.parse(String(e.metadata.occurredAt))));
    }
  }, 60_000);
  afterAll(async () => {
    await log?.stop();
    log?.remove();
  });

  it('as of any moment equals virtualMachineAsOf', async () => {
    const ids = Object.values(log.instances);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ids), fc.nat(), fc.integer({ min: -2, max: 2 }), async (id, pick, nudge) => {
        const moments = times.get(id)!;
        const at = moments[pick % moments.length]! + nudge;
        const replayed = (await replayStream(log.store, instanceStream(id), at)) as InstanceReplay;
        const asOf = await log.controlPlane.virtualMachineAsOf(log.admin, id, new Date(at).toISOString());
        expect(replayed.virtualMachine).toEqual(asOf ?? null);
      }),
      { numRuns: 150 },
    );
  });

  it('follows the instance through its life: nothing before the deploy, then Running, Stopped, Destroyed', async () => {
    const id = log.instances.destroyed;
    const moments = times.get(id)!;
    const states = await Promise.all(
      [moments[0]! - 1, ...moments].map(async (at) => ((await replayStream(log.store, instanceStream(id), at)) as InstanceReplay).virtualMachine?.state ?? null),
    );
    expect(states[0]).toBeNull();
    expect(states).toContain('Running');
    expect(states.at(-1)).toBe('Destroyed');
    expect(states.indexOf('Running')).toBeLessThan(states.lastIndexOf('Stopped'));
  });

  it('lists the events of other streams up to the moment, and every stream once without --stream', async () => {
    const lines: string[] = [];
    const { streams, failed } = await replayStreams({ store: log.store, write: async (line) => void lines.push(line) });
    expect(failed).toBe(0);
    const replays = lines.map((line) => JSON.parse(line) as InstanceReplay | StreamReplay);
    expect(replays).toHaveLength(streams);
    expect(new Set(replays.map((r) => r.stream)).size).toBe(streams);
    const zone = replays.find((r) => r.stream === zoneStream(log.demo.zoneId)) as StreamReplay | undefined;
    expect(zone?.events[0]).toMatchObject({ revision: 0, type: expect.any(String) });
    const instances = replays.filter((r) => r.stream.startsWith(INSTANCE_STREAM_PREFIX)) as InstanceReplay[];
    expect(instances.map((r) => r.virtualMachine?.id).sort()).toEqual(Object.values(log.instances).sort());
    const early = (await replayStream(log.store, zoneStream(log.demo.zoneId), Date.parse('2000-01-01T00:00:00Z'))) as StreamReplay;
    expect(early).toEqual({ stream: zoneStream(log.demo.zoneId), revision: -1, events: [] });
  });

  it('prints the same from the command line', () => {
    const id = log.instances.running;
    const at = new Date(times.get(id)!.at(-1)!).toISOString();
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../../../api/cli.ts'), 'audit', 'replay', '--data-dir', log.dir, '--stream', instanceStream(id), '--as-of', at],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const replayed = JSON.parse(run.stdout) as InstanceReplay;
    expect(replayed.virtualMachine).toMatchObject({ id, state: 'Running', serviceOfferingId: log.demo.serviceOfferingIds.medium });
  }, 20_000);
});
