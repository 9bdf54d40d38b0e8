// Keyset listing shared by every read-model list query: a filter, a two-column sort key and the
// cursor helpers of ../../pagination.ts, so each query only states what it selects.
import type { Database } from 'better-sqlite3';
import {
  InvalidPageRequestError,
  decodeCursor,
  pageSize,
  toConnection,
  type Connection,
  type CursorKey,
  type PageRequest,
} from './pagination.js';
import { prepared } from './sql.js';

/** One SQL condition with its parameters; the SQL is always a constant of the calling query. */
export interface Condition {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export function where(sql: string, ...params: unknown[]): Condition {
  return { sql, params };
}

type KeyType = 'string' | 'number';

export interface ListQuery<Row> {
  /** A table name (a constant, never caller input). */
  readonly from: string;
  readonly conditions: readonly (Condition | undefined)[];
  /** The sort key: a column, then a unique tie-breaker. Both must be in the page's index. */
  readonly orderBy: readonly [string, string];
  /** Cursor value types, so a cursor of another list is refused instead of silently misordering. */
  readonly keyTypes: readonly [KeyType, KeyType];
  readonly keyOf: (row: Row) => CursorKey;
  /** Newest first (the sort key descending), as job lists are. */
  readonly descending?: boolean;
}

/** Most lists are ordered by creation time, then id; this is their query. */
export function byCreated<Row extends { readonly id: string; readonly created: string }>(
  from: string,
  conditions: readonly (Condition | undefined)[],
): ListQuery<Row> {
  return { from, conditions, orderBy: ['created', 'id'], keyTypes: ['string', 'string'], keyOf: (row) => [row.created, row.id] };
}

/** Lists of log records (events, usage events) are in log order. */
export function byPosition<Row extends { readonly position: number }>(
  from: string,
  conditions: readonly (Condition | undefined)[],
): ListQuery<Row> {
  return { from, conditions, orderBy: ['position', 'position'], keyTypes: ['number', 'number'], keyOf: (row) => [row.position, row.position] };
}

/** `total`: the list's size when the caller knows it without counting (a maintained count). */
export function listPage<Row, Node>(db: Database, query: ListQuery<Row>, page: PageRequest, toNode: (row: Row) => Node, total?: number): Connection<Node> {
  const size = pageSize(page);
  const cursor = decodeCursor(page.after);
  if (cursor !== undefined && (typeof cursor[0] !== query.keyTypes[0] || typeof cursor[1] !== query.keyTypes[1])) {
    throw new InvalidPageRequestError('after', 'after is a cursor of a different list');
  }
  const filters = query.conditions.filter((c): c is Condition => c !== undefined);
  const whereSql = (conditions: readonly Condition[]) => (conditions.length === 0 ? '' : `WHERE ${conditions.map((c) => `(${c.sql})`).join(' AND ')}`);
  const params = (conditions: readonly Condition[]) => conditions.flatMap((c) => c.params);

  const count = total ?? (prepared(db, `SELECT COUNT(*) AS n FROM ${query.from} ${whereSql(filters)}`).get(...params(filters)) as { n: number }).n;
  const [first, second] = query.orderBy;
  const [after, order] = query.descending ? ['<', ' DESC'] : ['>', ''];
  const paged = cursor === undefined ? filters : [...filters, where(`(${first}, ${second}) ${after} (?, ?)`, cursor[0], cursor[1])];
  const rows = prepared(db, `SELECT * FROM ${query.from} ${whereSql(paged)} ORDER BY ${first}${order}, ${second}${order} LIMIT ?`).all(
    ...params(paged),
    size + 1,
  ) as Row[];
  return toConnection(rows, size, count, query.keyOf, toNode);
}
