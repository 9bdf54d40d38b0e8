// Usage: CloudStack's usage records (one day's piece of each usage interval) for a window, per account
// and day, as a table, a chart of hours per day and type, and a CSV file of the same rows.
import { useMemo, useState } from 'react';
import { gql } from '../api.ts';
import { formatBytes, formatDuration, Time } from '../format.tsx';
import { allPages, type Connection, type UsageRecord, type UsageRecordType } from '../model.ts';
import { useSession } from '../session.tsx';
import { Empty, ErrorNote, Field, Loading, TableBox, useData } from '../ui.tsx';

const TYPES: UsageRecordType[] = ['RUNNING_VM', 'ALLOCATED_VM', 'VOLUME', 'NETWORK_OFFERING', 'VM_SNAPSHOT'];
const TYPE_LABELS: Record<UsageRecordType, string> = {
  RUNNING_VM: 'Running',
  ALLOCATED_VM: 'Allocated',
  VOLUME: 'Volume',
  NETWORK_OFFERING: 'Network',
  VM_SNAPSHOT: 'Snapshot',
};
const FIELDS = 'id type usageType accountId domainId zoneId resourceId resourceName offeringId templateId size startDate endDate durationMs';

const isoDay = (date: Date) => `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
/** A date input's day as the local midnight that starts it. */
const midnight = (day: string) => new Date(`${day}T00:00:00`);
const hours = (ms: number) => ms / 3_600_000;

export function Usage() {
  const session = useSession();
  const today = new Date();
  const [from, setFrom] = useState(() => isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6)));
  const [to, setTo] = useState(() => isoDay(today));
  const [accountId, setAccountId] = useState('');
  const [type, setType] = useState('');
  const window = useMemo(() => {
    const start = midnight(from);
    const end = midnight(to);
    end.setDate(end.getDate() + 1);
    return { start, end };
  }, [from, to]);

  const { data: records, error, loading } = useData(
    () =>
      allPages((after) =>
        gql<{ usageRecords: Connection<UsageRecord> }>(
          `query($accountId: ID, $start: DateTime!, $end: DateTime!, $type: UsageRecordType, $after: String) {
            usageRecords(accountId: $accountId, startDate: $start, endDate: $end, type: $type, first: 200, after: $after) {
              nodes { ${FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
          { accountId: accountId || null, start: window.start.toISOString(), end: window.end.toISOString(), type: type || null, after },
        ).then((d) => d.usageRecords),
      ),
    [window, accountId, type],
  );

  const accountName = (id: string) => session.accountNames.get(id) ?? id.slice(0, 8);

  // Per account and day (the day the piece starts on, in this browser's zone) and type.
  const rows = useMemo(() => {
    const groups = new Map<string, { day: string; accountId: string; type: UsageRecordType; ms: number; count: number; bytes: number }>();
    for (const r of records ?? []) {
      const day = isoDay(new Date(r.startDate));
      const key = `${day}|${r.accountId}|${r.type}`;
      const group = groups.get(key) ?? { day, accountId: r.accountId, type: r.type, ms: 0, count: 0, bytes: 0 };
      group.ms += r.durationMs;
      group.count += 1;
      if (r.type === 'VOLUME' && r.size) group.bytes = Math.max(group.bytes, r.size);
      groups.set(key, group);
    }
    return [...groups.values()].sort((a, b) => a.day.localeCompare(b.day) || accountName(a.accountId).localeCompare(accountName(b.accountId)) || a.type.localeCompare(b.type));
  }, [records]);

  const download = () => {
    const header = ['id', 'type', 'usageType', 'account', 'accountId', 'zoneId', 'resourceId', 'resourceName', 'offeringId', 'templateId', 'size', 'startDate', 'endDate', 'hours'];
    const quote = (value: unknown) => {
      const text = value == null ? '' : String(value);
      // Quoted when needed; a leading =, +, - or @ is prefixed so a spreadsheet does not run it as a formula.
      const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
      return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const lines = (records ?? []).map((r) =>
      [r.id, r.type, r.usageType, accountName(r.accountId), r.accountId, r.zoneId, r.resourceId, r.resourceName, r.offeringId, r.templateId, r.size, r.startDate, r.endDate, hours(r.durationMs).toFixed(4)]
        .map(quote)
        .join(','),
    );
    const blob = new Blob([[header.join(','), ...lines].join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `vmledger-usage-${from}-to-${to}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  };

  return (
    <section aria-labelledby="usage-title">
      <div className="heading">
        <h1 id="usage-title">Usage</h1>
        <button type="button" onClick={download} disabled={!records || records.length === 0}>
          Download CSV
        </button>
      </div>
      <form className="filters" aria-label="Usage window" onSubmit={(e) => e.preventDefault()}>
        <Field id="usage-from" label="From">
          <input id="usage-from" type="date" value={from} max={to} onChange={(e) => e.target.value && setFrom(e.target.value)} />
        </Field>
        <Field id="usage-to" label="To (inclusive)">
          <input id="usage-to" type="date" value={to} min={from} onChange={(e) => e.target.value && setTo(e.target.value)} />
        </Field>
        <Field id="usage-type" label="Type">
          <select id="usage-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">Any</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]} ({t})
              </option>
            ))}
          </select>
        </Field>
        {session.isAdmin && (
          <Field id="usage-account" label="Account">
            <select id="usage-account" value={accountId} onChange={(e) => setAccountId(e.target.value)}>
              <option value="">Any</option>
              {session.accounts.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </Field>
        )}
      </form>
      <ErrorNote error={error} />
      {loading && !records && <Loading what="usage records" />}
      {records && records.length === 0 && <Empty>No usage in this window.</Empty>}
      {records && records.length > 0 && (
        <>
          <UsageChart rows={rows} from={from} to={to} />
          <TableBox label="Usage per account and day" className="cards-on-phone">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Account</th>
                <th scope="col">Type</th>
                <th scope="col">Records</th>
                <th scope="col">Time</th>
                <th scope="col">Largest volume</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.day}|${row.accountId}|${row.type}`}>
                  <td data-label="Day">{row.day}</td>
                  <td data-label="Account">{accountName(row.accountId)}</td>
                  <td data-label="Type">{TYPE_LABELS[row.type]}</td>
                  <td data-label="Records">{row.count}</td>
                  <td data-label="Time" title={`${hours(row.ms).toFixed(4)} h`}>{formatDuration(row.ms)}</td>
                  <td data-label="Largest volume">{row.bytes ? formatBytes(row.bytes) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </TableBox>
          <details>
            <summary>The {records.length} records</summary>
            <TableBox label="Usage records" className="cards-on-phone">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Account</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Time</th>
                </tr>
              </thead>
              <tbody>
                {records.map((r) => (
                  <tr key={r.id}>
                    <td data-label="Type">{TYPE_LABELS[r.type]}</td>
                    <td data-label="Resource" className="mono">{r.resourceName}</td>
                    <td data-label="Account">{accountName(r.accountId)}</td>
                    <td data-label="From">
                      <Time at={r.startDate} />
                    </td>
                    <td data-label="To">{r.endDate ? <Time at={r.endDate} /> : 'open'}</td>
                    <td data-label="Time" title={`${hours(r.durationMs).toFixed(4)} h`}>{formatDuration(r.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </TableBox>
          </details>
        </>
      )}
    </section>
  );
}

/** Time per day, stacked by type, as an SVG bar chart (with the same numbers in its label), in hours, minutes or seconds as they fit. */
function UsageChart({ rows, from, to }: { rows: { day: string; type: UsageRecordType; ms: number }[]; from: string; to: string }) {
  const days: string[] = [];
  for (let d = midnight(from); isoDay(d) <= to; d.setDate(d.getDate() + 1)) days.push(isoDay(d));
  const perDay = days.map((day) => TYPES.map((type) => rows.filter((r) => r.day === day && r.type === type).reduce((sum, r) => sum + r.ms, 0)));
  const largest = Math.max(0, ...perDay.map((values) => values.reduce((a, b) => a + b, 0)));
  const [unit, unitMs] = largest >= 3_600_000 ? ['hours', 3_600_000] : largest >= 60_000 ? ['minutes', 60_000] : ['seconds', 1000];
  const max = Math.max(1, largest / unitMs);
  const width = 900;
  const height = 240;
  const left = 48;
  const bottom = 28;
  const plot = height - bottom - 8;
  const barWidth = (width - left) / Math.max(1, days.length);
  const summary = days.map((day, i) => `${day}: ${formatDuration(perDay[i]!.reduce((a, b) => a + b, 0))}`).join('; ');
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Usage per day. ${summary}`}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={left} x2={width} y1={8 + plot * (1 - f)} y2={8 + plot * (1 - f)} className="grid-line" />
            <text x={left - 6} y={12 + plot * (1 - f)} textAnchor="end" className="axis">
              {(max * f).toFixed(max * f >= 10 || f === 0 ? 0 : 1)}
            </text>
          </g>
        ))}
        {days.map((day, i) => {
          let y = 8 + plot;
          return (
            <g key={day}>
              {perDay[i]!.map((value, t) => {
                const h = (value / unitMs / max) * plot;
                y -= h;
                return value > 0 ? (
                  <rect key={TYPES[t]} x={left + i * barWidth + barWidth * 0.15} y={y} width={barWidth * 0.7} height={h} className={`bar bar-${TYPES[t]!.toLowerCase()}`}>
                    <title>{`${day} ${TYPE_LABELS[TYPES[t]!]}: ${formatDuration(value)}`}</title>
                  </rect>
                ) : null;
              })}
              {(days.length <= 14 || i % Math.ceil(days.length / 14) === 0) && (
                <text x={left + i * barWidth + barWidth / 2} y={height - 10} textAnchor="middle" className="axis">
                  {day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {unit.charAt(0).toUpperCase() + unit.slice(1)} per day:{' '}
        {TYPES.map((t) => (
          <span key={t} className="legend">
            <span className={`swatch bar-${t.toLowerCase()}`} aria-hidden="true" /> {TYPE_LABELS[t]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
