// The instance's history, which only an event-sourced control plane keeps: its action events as a
// timeline (who did what, when), and a time slider that shows the instance as it was at any moment,
// folded from its own events by virtualMachineAsOf.
import { useEffect, useMemo, useState } from 'react';
import { gql, messageOf } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { actorText, formatMHz, formatMiB, Time } from '../format.tsx';
import { allPages, VM_FIELDS, type AuditEvent, type Connection, type Vm } from '../model.ts';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Loading, StateBadge, useData } from '../ui.tsx';

const STEP_MS = 1000;

export function History({ vm, refresh }: { vm: Vm; refresh: number }) {
  const session = useSession();
  const { data: events, error, loading } = useData(
    () =>
      allPages((after) =>
        gql<{ events: Connection<AuditEvent> }>(
          `query($id: ID, $after: String) { events(resourceId: $id, first: 200, after: $after) {
            nodes { id type state level resourceId resourceType accountId description actor occurredAt position }
            pageInfo { hasNextPage endCursor } totalCount } }`,
          { id: vm.id, after },
        ).then((d) => d.events),
      ),
    [vm.id, refresh],
  );

  return (
    <div className="history">
      <h2>History</h2>
      <ErrorNote error={error} />
      {loading && !events && <Loading what="the history" />}
      {events && <AsOf vm={vm} events={events} />}
      {events && events.length === 0 && <Empty>No action event is recorded for this instance yet.</Empty>}
      {events && events.length > 0 && (
        <ol className="timeline" aria-label="Action events, oldest first">
          {events.map((event) => (
            <li key={event.id} className={`level-${event.level.toLowerCase()}`} data-event-type={event.type}>
              <div className="timeline-head">
                <span className="event-type">{event.type}</span>
                <Time at={event.occurredAt} className="muted small" />
              </div>
              <div>{event.description}</div>
              <div className="muted small">
                by <span className="actor">{actorText(event.actor, session.accountNames)}</span> · {event.state}
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function AsOf({ vm, events }: { vm: Vm; events: AuditEvent[] }) {
  const session = useSession();
  const catalog = useCatalog();
  const start = Math.floor(Date.parse(events[0]?.occurredAt ?? vm.created) / STEP_MS) * STEP_MS;
  // The slider ends at the moment the events were read; new events (a job ending) move it there again.
  const end = useMemo(() => Math.ceil(Date.now() / STEP_MS) * STEP_MS, [events]);
  const [at, setAt] = useState(end);
  useEffect(() => setAt(end), [end]);
  const [past, setPast] = useState<Vm | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const marks = useMemo(() => [...new Set(events.map((e) => Date.parse(e.occurredAt)))].sort((a, b) => a - b), [events]);

  useEffect(() => {
    let current = true;
    // Dragging asks once it pauses, not at every pixel.
    const timer = setTimeout(() => {
      gql<{ virtualMachineAsOf: Vm | null }>(`query($id: ID!, $at: DateTime!) { virtualMachineAsOf(id: $id, at: $at) { ${VM_FIELDS} } }`, { id: vm.id, at: new Date(at).toISOString() })
        .then((d) => {
          if (!current) return;
          setPast(d.virtualMachineAsOf);
          setError(null);
        })
        .catch((caught: unknown) => current && setError(messageOf(caught)));
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [vm.id, at]);

  const jump = (direction: -1 | 1) => {
    const target = direction < 0 ? [...marks].reverse().find((m) => m < at) : marks.find((m) => m > at);
    if (target !== undefined) setAt(Math.min(end, Math.max(start, target)));
  };

  return (
    <div className="card as-of">
      <h3 id="as-of-title">The instance as it was</h3>
      <div className="slider">
        <label htmlFor="as-of-slider">Moment</label>
        <input
          id="as-of-slider"
          type="range"
          min={start}
          max={end}
          step={1}
          value={at}
          aria-valuetext={new Date(at).toLocaleString()}
          onChange={(e) => setAt(Number(e.target.value))}
        />
        <div className="slider-buttons">
          <button type="button" className="small-button" onClick={() => jump(-1)} disabled={!marks.some((m) => m < at)}>
            Previous event
          </button>
          <button type="button" className="small-button" onClick={() => jump(1)} disabled={!marks.some((m) => m > at)}>
            Next event
          </button>
          <button type="button" className="small-button" onClick={() => setAt(end)}>
            Now
          </button>
        </div>
      </div>
      <p>
        At <Time at={new Date(at).toISOString()} />:
      </p>
      <ErrorNote error={error} />
      {past === undefined && !error && <Loading what="the instance at that moment" />}
      {past === null && <p className="muted">The instance did not exist yet.</p>}
      {past && (
        <dl className="facts" aria-labelledby="as-of-title" data-testid="as-of">
          <dt>State</dt>
          <dd>
            <StateBadge state={past.state} />
          </dd>
          <dt>Offering</dt>
          <dd>
            {catalog.name('offering', past.serviceOfferingId)} ({past.cpuNumber} × {formatMHz(past.cpuSpeed)}, {formatMiB(past.memory)})
          </dd>
          <dt>Display name</dt>
          <dd>{past.displayName}</dd>
          {session.isAdmin && (
            <>
              <dt>Host</dt>
              <dd>{past.hostId ? catalog.name('host', past.hostId) : '—'}</dd>
            </>
          )}
          <dt>NICs</dt>
          <dd>{past.nics.map((nic) => `${catalog.name('network', nic.networkId)}${nic.ipAddress ? ` ${nic.ipAddress}` : ''}`).join(', ') || '—'}</dd>
          <dt>Delete protection</dt>
          <dd>{past.deleteProtection ? 'on' : 'off'}</dd>
          <dt>Lease</dt>
          <dd>{past.leaseExpiryDate ? <Time at={past.leaseExpiryDate} /> : '—'}</dd>
        </dl>
      )}
    </div>
  );
}
