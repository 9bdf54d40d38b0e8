import Database from 'better-sqlite3';
import { readDictionaries } from '../../adapters/eventstore/sqlite/dictionaries.js';
import { rowTexts } from '../../adapters/eventstore/sqlite/row-codec.js';

/** The plainest read of every row: better-sqlite3 pages of 1000 by position, each row decoded and its JSON texts parsed. */
export function rawRead(path: string): number {
  const db = new Database(path, { readonly: true });
  const dictionaries = readDictionaries(db);
  const dictionaryBytes = (id: number) => dictionaries.get(id);
  const page = db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT 1000');
  let count = 0;
  let sink = 0;
  for (let last = 0; ; ) {
    const rows = page.all(last) as Array<{ position: number; data: string | Buffer; metadata: string | Buffer }>;
    for (const row of rows) {
      const texts = rowTexts(row, dictionaryBytes);
      const data = JSON.parse(texts.data) as { usageVersion?: number };
      const metadata = JSON.parse(texts.metadata) as { schemaVersion: number };
      sink += (data.usageVersion ?? 0) + metadata.schemaVersion;
    }
    count += rows.length;
    if (rows.length < 1000) break;
    last = rows[rows.length - 1]!.position;
  }
  db.close();
  if (sink === 0) throw new Error('raw read read nothing');
  return count;
}
