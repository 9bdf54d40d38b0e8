// Compares two read-model databases table by table, each read in primary-key order and merged, so
// memory does not grow with the tables. Every row present on one side only or different between
// them is reported with its table and key.
import type { Database } from 'better-sqlite3';
import { compareSqlValues, sameSqlValue, type SqlValue } from './sqlite-order.js';

type Row = Record<string, SqlValue>;

export interface RowDifference {
  readonly table: string;
  /** The row's primary key (every column for a table without one). */
  readonly key: Readonly<Record<string, SqlValue>>;
  /** Null when the row is missing on that side. */
  readonly live: Row | null;
  readonly rebuilt: Row | null;
}

export interface TableDiff {
  readonly tables: number;
  readonly rows: number;
  readonly differences: readonly RowDifference[];
}

interface Column {
  name: string;
  pk: number;
}

export function diffDatabases(live: Database, rebuilt: Database, onDifference?: (difference: RowDifference) => void): TableDiff {
  const differences: RowDifference[] = [];
  const report = (difference: RowDifference) => {
    differences.push(difference);
    onDifference?.(difference);
  };
  const liveTables = new Set(tablesOf(live));
  const rebuiltTables = tablesOf(rebuilt);
  let rows = 0;
  for (const table of rebuiltTables) {
    if (!liveTables.has(table)) {
      report({ table, key: {}, live: null, rebuilt: { table } });
      continue;
    }
    rows += diffTable(live, rebuilt, table, report);
  }
  for (const table of liveTables) if (!rebuiltTables.includes(table)) report({ table, key: {}, live: { table }, rebuilt: null });
  return { tables: rebuiltTables.length, rows, differences };
}

function tablesOf(db: Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map(
    (row) => row.name,
  );
}

function diffTable(live: Database, rebuilt: Database, table: string, report: (difference: RowDifference) => void): number {
  const columns = rebuilt.prepare(`PRAGMA table_info(${quote(table)})`).all() as Column[];
  const pk = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  const keyColumns = pk.length > 0 ? pk : columns.map((c) => c.name);
  const select = `SELECT * FROM ${quote(table)} ORDER BY ${keyColumns.map((c) => `${quote(c)} COLLATE BINARY`).join(', ')}`;
  const keyOf = (row: Row) => Object.fromEntries(keyColumns.map((c) => [c, row[c] ?? null]));
  const compareKeys = (a: Row, b: Row) => {
    for (const column of keyColumns) {
      const order = compareSqlValues(a[column] ?? null, b[column] ?? null);
      if (order !== 0) return order;
    }
    return 0;
  };
  const left = live.prepare(select).iterate() as IterableIterator<Row>;
  const right = rebuilt.prepare(select).iterate() as IterableIterator<Row>;
  let l = left.next();
  let r = right.next();
  let rows = 0;
  while (!l.done || !r.done) {
    rows++;
    const order = l.done ? 1 : r.done ? -1 : compareKeys(l.value, r.value);
    if (order < 0 && !l.done) {
      report({ table, key: keyOf(l.value), live: l.value, rebuilt: null });
      l = left.next();
    } else if (order > 0 && !r.done) {
      report({ table, key: keyOf(r.value), live: null, rebuilt: r.value });
      r = right.next();
    } else if (!l.done && !r.done) {
      if (!sameRow(l.value, r.value, columns)) report({ table, key: keyOf(r.value), live: l.value, rebuilt: r.value });
      l = left.next();
      r = right.next();
    }
  }
  return rows;
}

function sameRow(a: Row, b: Row, columns: readonly Column[]): boolean {
  return columns.every((c) => sameSqlValue(a[c.name] ?? null, b[c.name] ?? null));
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
