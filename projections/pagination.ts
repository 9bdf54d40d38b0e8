// Cursor pagination for every list query: keyset ("after this row"), not offsets, so a page stays
// correct while rows are added, and costs the same on page 1 and page 1,000.

export interface PageRequest {
  /** Rows per page; defaults to DEFAULT_PAGE_SIZE, at most MAX_PAGE_SIZE. */
  readonly first?: number | null;
  /** The `endCursor` of the previous page. */
  readonly after?: string | null;
}

export interface PageInfo {
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

export interface Connection<T> {
  readonly nodes: T[];
  readonly pageInfo: PageInfo;
  readonly totalCount: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** A row's place in its list: the value it is sorted by, then a unique tie-breaker. */
export type CursorKey = readonly [string | number, string | number];

export class InvalidPageRequestError extends Error {
  constructor(
    readonly field: 'first' | 'after',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidPageRequestError';
  }
}

export function pageSize(request: PageRequest): number {
  const first = request.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new InvalidPageRequestError('first', `first must be an integer from 0 to ${MAX_PAGE_SIZE}, got ${first}`);
  }
  return first;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): CursorKey | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const invalid = () => new InvalidPageRequestError('after', `after is not a cursor this API issued: ${JSON.stringify(cursor.slice(0, 40))}`);
  if (typeof cursor !== 'string' || cursor.length > 512) throw invalid();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const scalar = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  if (!Array.isArray(key) || key.length !== 2 || !scalar(key[0]) || !scalar(key[1])) throw invalid();
  return key as unknown as CursorKey;
}

/**
 * Builds a connection from rows fetched with `LIMIT size + 1` after the cursor: the extra row only
 * says whether there is a next page.
 */
export function toConnection<Row, T>(
  rows: readonly Row[],
  size: number,
  totalCount: number,
  keyOf: (row: Row) => CursorKey,
  toNode: (row: Row) => T,
): Connection<T> {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return {
    nodes: page.map(toNode),
    pageInfo: { hasNextPage: rows.length > size, endCursor: last === undefined ? null : encodeCursor(keyOf(last)) },
    totalCount,
  };
}

/**
 * Keyset pages over a list held in memory rather than in the read model (a fixed catalogue), with
 * the same cursors and page sizes as the SQL lists. `items` must be sorted by `keyOf`, and each key
 * be made of two strings.
 */
export function pageOfList<T>(items: readonly T[], page: PageRequest, keyOf: (item: T) => readonly [string, string]): Connection<T> {
  const size = pageSize(page);
  const cursor = decodeCursor(page.after);
  if (cursor !== undefined && (typeof cursor[0] !== 'string' || typeof cursor[1] !== 'string')) {
    throw new InvalidPageRequestError('after', 'after is a cursor of a different list');
  }
  const after = (item: T) => {
    if (cursor === undefined) return true;
    const [first, second] = keyOf(item);
    return first > cursor[0] || (first === cursor[0] && second > cursor[1]);
  };
  const rest = items.filter(after);
  return toConnection(rest.slice(0, size + 1), size, items.length, keyOf, (item) => item);
}
