import type { Projection } from '../../projections/projection.js';

/** Counts events per stream: an event applied twice shows as a count above the stream's length. */
export const eventCounts: Projection = {
  name: 'crash_counts',
  version: 1,
  schema: 'CREATE TABLE crash_counts (stream TEXT PRIMARY KEY, n INTEGER NOT NULL)',
  handle(event, db) {
    db.run(
      'INSERT INTO crash_counts (stream, n) VALUES (?, 1) ON CONFLICT (stream) DO UPDATE SET n = n + 1',
      event.stream,
    );
  },
};
