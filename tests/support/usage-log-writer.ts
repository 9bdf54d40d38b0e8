// Writes a log shaped like a busy cloud's: instance streams, each append one domain event and a run
// of usage events, appends to several streams at once (group-committed), through the store itself so
// every event is sealed into its stream's hash chain. For the tail's crash test and the benchmarks.
import { randomUUID } from 'node:crypto';
import type { EventData, EventStore } from '../../adapters/eventstore/port.js';
import { instanceStream, usageEventType, type UsageType } from '../../domain/instance/index.js';

const USAGE: readonly UsageType[] = ['VM.CREATE', 'VOLUME.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START', 'VM.STOP', 'NETWORK.OFFERING.REMOVE', 'VM.UPGRADE', 'VM.DYNAMIC.SCALE', 'VOLUME.DELETE', 'VM.DESTROY'];

export interface UsageLogShape {
  readonly events: number;
  readonly streams: number;
  /** Events per append; one of them is a domain event, the rest usage events. */
  readonly perAppend: number;
  /** Appends committed together. */
  readonly concurrency: number;
  readonly accounts: number;
}

export async function writeUsageLog(store: EventStore, shape: UsageLogShape): Promise<void> {
  const revisions = new Map<number, number>();
  let written = 0;
  let round = 0;
  while (written < shape.events) {
    const appends: Array<Promise<unknown>> = [];
    for (let k = 0; k < shape.concurrency && written < shape.events; k++) {
      const streamNo = (round * shape.concurrency + k * 997) % shape.streams;
      const size = Math.min(shape.perAppend, shape.events - written);
      const from = revisions.get(streamNo) ?? -1;
      revisions.set(streamNo, from + size);
      appends.push(store.append(instanceStream(uuidOf(streamNo)), batch(streamNo, size, from + 1, shape.accounts), from === -1 ? 'no_stream' : from));
      written += size;
    }
    await Promise.all(appends);
    round++;
  }
}

function batch(streamNo: number, size: number, firstRevision: number, accounts: number): EventData[] {
  const instanceId = uuidOf(streamNo);
  const at = new Date(Date.UTC(2025, 2, 1) + firstRevision * 60_000).toISOString();
  const metadata = { correlationId: randomUUID(), actor: { kind: 'system', component: 'bench' }, occurredAt: at, schemaVersion: 1 };
  return Array.from({ length: size }, (_, i) =>
    i === 0
      ? { id: randomUUID(), type: 'InstanceStarted', data: { instanceId, hostId: 'c0ffee00-0000-4000-8000-000000000001', state: 'Running' }, metadata }
      : {
          id: randomUUID(),
          type: usageEventType(USAGE[(firstRevision + i) % USAGE.length]!),
          data: {
            usageVersion: 1,
            accountId: `acct-${streamNo % accounts}`,
            domainId: 'dom-root',
            zoneId: 'zone-demo',
            resourceId: instanceId,
            resourceName: `vm-${streamNo}`,
            offeringId: 'so-small',
            templateId: 'tmpl-debian',
            size: null,
            resourceType: 'KVM',
            details: null,
            occurredAt: at,
          },
          metadata,
        },
  );
}

function uuidOf(n: number): string {
  return `2b7e1f0c-0000-4000-8000-${String(n).padStart(12, '0')}`;
}
