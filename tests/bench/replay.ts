import type { EventStore } from '../../adapters/eventstore/port.js';

/** The fold a replay does: one small state per stream, so memory is bounded by streams, not events. */
export async function replayAll(store: EventStore, limit = Number.POSITIVE_INFINITY, pageSize = 1000): Promise<{ events: number; streams: number }> {
  const states = new Map<string, { count: number; lastType: string }>();
  let from = 0;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: from, maxCount: pageSize });
    for (const event of page) {
      const state = states.get(event.stream);
      if (state) {
        state.count++;
        state.lastType = event.type;
      } else {
        states.set(event.stream, { count: 1, lastType: event.type });
      }
    }
    events += page.length;
    if (page.length < pageSize || events >= limit) return { events, streams: states.size };
    from = page[page.length - 1]!.position;
  }
}
