// SQLite's ORDER BY order in JavaScript, so two ordered row streams can be merged: NULL, then
// numbers, then text (BINARY collation: UTF-8 bytes), then blobs.
export type SqlValue = null | number | bigint | string | Buffer;

function rank(value: SqlValue): number {
  if (value === null) return 0;
  if (typeof value === 'number' || typeof value === 'bigint') return 1;
  if (typeof value === 'string') return 2;
  return 3;
}

export function compareSqlValues(a: SqlValue, b: SqlValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a === null || b === null) return 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return Buffer.compare(a as Buffer, b as Buffer);
}

export function sameSqlValue(a: SqlValue, b: SqlValue): boolean {
  return rank(a) === rank(b) && compareSqlValues(a, b) === 0;
}
