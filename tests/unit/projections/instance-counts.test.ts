// Issue 19: the instance lists' totalCount comes from instance_counts, which triggers keep. Any run
// of inserts, state changes, moves between accounts and expunges leaves every count equal to the
// rows it stands for, and the lists' totals equal counting the rows for every visibility and filter.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instancesProjection } from '../../../projections/instances/projection.js';
import { listInstances, type InstanceFilter } from '../../../projections/instances/queries.js';
import type { Visibility } from '../../../projections/visibility.js';

const ACCOUNTS = [
  { account: 'acct-1', domain: 'dom-1' },
  { account: 'acct-2', domain: 'dom-1' },
  { account: 'acct-3', domain: 'dom-2' },
];
const STATES = ['Stopped', 'Running', 'Starting', 'Destroyed'];
const ZONES = ['zone-a', 'zone-b'];

type Step =
  | { kind: 'insert'; owner: number; zone: number; state: number; expunged: boolean }
  | { kind: 'state'; target: number; state: number }
  | { kind: 'move'; target: number; owner: number }
  | { kind: 'expunge'; target: number }
  | { kind: 'delete'; target: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), owner: fc.nat(2), zone: fc.nat(1), state: fc.nat(3), expunged: fc.boolean() }),
  fc.record({ kind: fc.constant('state' as const), target: fc.nat(20), state: fc.nat(3) }),
  fc.record({ kind: fc.constant('move' as const), target: fc.nat(20), owner: fc.nat(2) }),
  fc.record({ kind: fc.constant('expunge' as const), target: fc.nat(20) }),
  fc.record({ kind: fc.constant('delete' as const), target: fc.nat(20) }),
);

function apply(db: Database.Database, steps: readonly Step[]): void {
  let next = 0;
  const ids = () => db.prepare('SELECT id FROM instances ORDER BY rowid').pluck().all() as string[];
  for (const s of steps) {
    if (s.kind === 'insert') {
      const { account, domain } = ACCOUNTS[s.owner]!;
      const id = `vm-${next++}`;
      db.prepare(
        `INSERT INTO instances (id, account_id, domain_id, zone_id, state, name, display_name, instance_name, state_since, leased, expunged, created, revision, instance)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', 0, ?, ?, 0, '{}')`,
      ).run(id, account, domain, ZONES[s.zone], STATES[s.state], id, id, `i-${id}`, s.expunged ? 1 : 0, `2026-01-01T00:00:${String(next).padStart(2, '0')}.000Z`);
      continue;
    }
    const id = ids()[s.target];
    if (id === undefined) continue;
    if (s.kind === 'state') db.prepare('UPDATE instances SET state = ? WHERE id = ?').run(STATES[s.state], id);
    else if (s.kind === 'move') db.prepare('UPDATE instances SET account_id = ?, domain_id = ? WHERE id = ?').run(ACCOUNTS[s.owner]!.account, ACCOUNTS[s.owner]!.domain, id);
    else if (s.kind === 'expunge') db.prepare('UPDATE instances SET expunged = 1 WHERE id = ?').run(id);
    else db.prepare('DELETE FROM instances WHERE id = ?').run(id);
  }
}

function freshModel(): Database.Database {
  const db = new Database(':memory:');
  db.exec(instancesProjection.schema);
  return db;
}

describe('instance_counts', () => {
  it('equals the listed rows of each scope and state after any run of writes', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const db = freshModel();
        apply(db, steps);
        const counted = (scopeSql: string) =>
          db.prepare(`SELECT ${scopeSql} AS scope, state, COUNT(*) AS n FROM instances WHERE expunged = 0 GROUP BY 1, 2`).all() as Array<{ scope: string; state: string; n: number }>;
        const expected = new Map<string, number>();
        for (const sql of ["'*'", "'a:' || account_id", "'d:' || domain_id", "'z:' || zone_id"]) for (const row of counted(sql)) expected.set(`${row.scope}|${row.state}`, row.n);
        const kept = db.prepare('SELECT scope, state, n FROM instance_counts WHERE n != 0').all() as Array<{ scope: string; state: string; n: number }>;
        expect(new Map(kept.map((row) => [`${row.scope}|${row.state}`, row.n]))).toEqual(expected);
        db.close();
      }),
      { numRuns: 300 },
    );
  });

  it('gives every list the total that counting its rows gives, for each visibility and filter', () => {
    const visibilities: Visibility[] = [
      { kind: 'all' },
      { kind: 'account', accountId: 'acct-1' },
      { kind: 'account', accountId: 'acct-3' },
      { kind: 'domains', domainIds: ['dom-1'] },
      { kind: 'domains', domainIds: ['dom-1', 'dom-2'] },
    ];
    const filters: InstanceFilter[] = [
      {},
      { state: 'Running' },
      { accountId: 'acct-2' },
      { accountId: 'acct-1', state: 'Stopped' },
      { zoneId: 'zone-b' },
      { zoneId: 'zone-a', state: 'Running' },
      { accountId: 'acct-1', zoneId: 'zone-a' },
      { hostId: 'nowhere' },
    ];
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const db = freshModel();
        apply(db, steps);
        for (const visibility of visibilities) {
          for (const filter of filters) {
            const listed = listInstances(db, visibility, filter, { first: 0 });
            // The oracle: the rows the list stands for, counted plainly.
            const clauses = ['expunged = 0'];
            const params: string[] = [];
            if (visibility.kind === 'account') clauses.push('account_id = ?') && params.push(visibility.accountId);
            if (visibility.kind === 'domains') clauses.push(`domain_id IN (${visibility.domainIds.map(() => '?').join(', ')})`) && params.push(...visibility.domainIds);
            for (const [column, value] of [['account_id', filter.accountId], ['zone_id', filter.zoneId], ['state', filter.state], ['host_id', filter.hostId]] as const) {
              if (value) clauses.push(`${column} = ?`) && params.push(value);
            }
            const rows = db.prepare(`SELECT COUNT(*) FROM instances WHERE ${clauses.join(' AND ')}`).pluck().get(...params) as number;
            expect(listed.totalCount, JSON.stringify({ visibility, filter })).toBe(rows);
          }
        }
        db.close();
      }),
      { numRuns: 60 },
    );
  });
});
