// A log of hand-written usage events and a read model of the usage records over it, for tests.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { instanceStream, usageEventType, type KnownUsageType, type UsagePayload } from '../../../domain/instance/index.js';
import { ReadModel } from '../../../projections/read-model.js';
import { listUsageRecords, usageRecordsProjection, type UsageRecordFilter, type UsageRecordView } from '../../../projections/usage-records/index.js';
import type { Visibility } from '../../../projections/visibility.js';

export const VM = 'vm-1';

export function payload(fields: Partial<Omit<UsagePayload, 'details'>> & { details?: unknown } = {}): Record<string, unknown> {
  return {
    usageVersion: 1,
    accountId: 'acct-1',
    domainId: 'dom-1',
    zoneId: 'zone-1',
    resourceId: VM,
    resourceName: 'web-1',
    offeringId: 'so-small',
    templateId: 'tmpl-1',
    size: null,
    resourceType: 'KVM',
    details: null,
    occurredAt: '2025-03-01T10:00:00.000Z',
    ...fields,
  };
}

export interface UsageLog {
  readonly store: SqliteEventStore;
  readonly model: ReadModel;
  /** Appends one usage event to the instance's stream and waits until the read model has it; returns its id. */
  usage(type: KnownUsageType, at: string, fields?: Parameters<typeof payload>[0], stream?: string): Promise<string>;
  records(filter: Partial<UsageRecordFilter>, clock?: { timeZone?: string; now?: string }, visibility?: Visibility): UsageRecordView[];
  close(): Promise<void>;
}

export async function openUsageLog(): Promise<UsageLog> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-usage-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
  const model = await ReadModel.open({ store, projections: [usageRecordsProjection], directory: ':memory:' });
  return {
    store,
    model,
    async usage(type, at, fields = {}, stream = instanceStream(String(fields.resourceId ?? VM))) {
      const id = randomUUID();
      const result = await store.append(stream, [{ id, type: usageEventType(type), data: payload({ ...fields, occurredAt: at }) }], 'any');
      await model.waitForPosition(result.positions[0]!, 5000);
      return id;
    },
    records(filter, clock = {}, visibility = { kind: 'all' }) {
      const all: UsageRecordView[] = [];
      let after: string | null = null;
      for (;;) {
        const page = listUsageRecords(
          model.db,
          visibility,
          { startDate: '2025-01-01T00:00:00Z', endDate: '2026-01-01T00:00:00Z', ...filter },
          { first: 500, after },
          // "Now" at the end of the day the tests' events happen on, so an open interval is one piece.
          { timeZone: clock.timeZone ?? 'UTC', nowMs: Date.parse(clock.now ?? '2025-03-02T00:00:00Z') },
        );
        all.push(...page.nodes);
        if (!page.pageInfo.hasNextPage) return sortForTests(all);
        after = page.pageInfo.endCursor;
      }
    },
    async close() {
      await model.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Records starting at the same instant are listed by id (random event ids here); ordered by type and
 * resource instead, expectations can be written down.
 */
function sortForTests(records: UsageRecordView[]): UsageRecordView[] {
  const key = (r: UsageRecordView) => [r.startDate, r.usageType === 2 ? 0 : r.usageType, r.resourceId, r.resourceName, r.templateId ?? ''].join('|');
  return records.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** [type, start, end, durationMs] of each record, for compact expectations. */
export function spans(records: readonly UsageRecordView[]): Array<[string, string, string | null, number]> {
  return records.map((r) => [r.type, r.startDate, r.endDate, r.durationMs]);
}
