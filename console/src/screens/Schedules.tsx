// An instance's schedules: each cron in words with its next fires in the schedule's own zone, and a
// form to add one (the API's refusals shown beside their fields).
import { useState, type FormEvent } from 'react';
import { DateTime } from 'luxon';
import { ApiError, gql, messageOf } from '../api.ts';
import { describeCron, nextFires } from '../cron-text.ts';
import { Time } from '../format.tsx';
import { SCHEDULE_ACTIONS, type Connection, type Vm, type VmSchedule } from '../model.ts';
import { Empty, ErrorNote, Field, Loading, TableBox, useData } from '../ui.tsx';

const FIELDS = 'id virtualMachineId action schedule timeZone description startDate endDate enabled created';

/** A fire in the schedule's zone ("Mon 6 Jan 2025, 08:30 Europe/Paris"), with UTC on hover. */
function ZonedFire({ at, zone }: { at: number; zone: string }) {
  const local = DateTime.fromMillis(at, { zone });
  return (
    <time dateTime={new Date(at).toISOString()} title={`${new Date(at).toISOString().replace('T', ' ').slice(0, 16)} UTC`}>
      {local.toFormat('ccc d LLL yyyy, HH:mm')} {zone}
    </time>
  );
}

export function Schedules({ vm }: { vm: Vm }) {
  const { data, error, loading, reload } = useData(
    () => gql<{ vmSchedules: Connection<VmSchedule> }>(`query($id: ID!) { vmSchedules(virtualMachineId: $id, first: 100) { nodes { ${FIELDS} } totalCount pageInfo { hasNextPage endCursor } } }`, { id: vm.id }).then((d) => d.vmSchedules.nodes),
    [vm.id],
  );
  const [actionError, setActionError] = useState<string | null>(null);
  const act = async (run: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await run();
      await reload();
    } catch (caught) {
      setActionError(messageOf(caught));
    }
  };
  const now = Date.now();
  return (
    <div>
      <h2>Schedules</h2>
      <ErrorNote error={error} />
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {loading && !data && <Loading what="schedules" />}
      {data && data.length === 0 && <Empty>No schedule runs actions on this instance.</Empty>}
      {data && data.length > 0 && (
        <TableBox label="Schedules" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">When</th>
              <th scope="col">Next fires (the schedule's zone)</th>
              <th scope="col">Between</th>
              <th scope="col">Enabled</th>
              <th scope="col">Manage</th>
            </tr>
          </thead>
          <tbody>
            {data.map((s) => {
              const described = describeCron(s.schedule);
              const fires = s.enabled ? nextFires(s.schedule, s.timeZone, now, 3, Date.parse(s.startDate), s.endDate ? Date.parse(s.endDate) : null) : [];
              return (
                <tr key={s.id}>
                  <td data-label="Action">{s.action}</td>
                  <td data-label="When">
                    <div>{'text' in described ? described.text : described.error}</div>
                    <div className="muted small mono">
                      {s.schedule} ({s.timeZone})
                    </div>
                    <div className="muted small">{s.description}</div>
                  </td>
                  <td data-label="Next fires (the schedule's zone)">
                    {fires.length === 0 ? (
                      <span className="muted">{s.enabled ? 'none left' : 'disabled'}</span>
                    ) : (
                      <ul className="plain">
                        {fires.map((at) => (
                          <li key={at}>
                            <ZonedFire at={at} zone={s.timeZone} />
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td data-label="Between" className="small">
                    <span>
                      <Time at={s.startDate} /> – {s.endDate ? <Time at={s.endDate} /> : 'no end'}
                    </span>
                  </td>
                  <td data-label="Enabled">{s.enabled ? 'yes' : 'no'}</td>
                  <td data-label="Manage">
                    <div className="row-actions">
                      <button type="button" className="small-button" onClick={() => void act(() => gql(`mutation($id: ID!, $enabled: Boolean) { updateVMSchedule(id: $id, enabled: $enabled) { id } }`, { id: s.id, enabled: !s.enabled }))}>
                        {s.enabled ? 'Disable' : 'Enable'}
                      </button>
                      <button type="button" className="small-button danger" aria-label={`Delete the schedule ${s.description}`} onClick={() => void act(() => gql(`mutation($vm: ID!, $id: ID) { deleteVMSchedule(virtualMachineId: $vm, id: $id) }`, { vm: vm.id, id: s.id }))}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </TableBox>
      )}
      <NewSchedule vm={vm} onCreated={reload} />
    </div>
  );
}

function NewSchedule({ vm, onCreated }: { vm: Vm; onCreated: () => Promise<void> }) {
  const [action, setAction] = useState('STOP');
  const [schedule, setSchedule] = useState('0 19 * * 1-5');
  const [timeZone, setTimeZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const described = describeCron(schedule);
  const zoneValid = DateTime.now().setZone(timeZone).isValid;
  const preview = 'text' in described && zoneValid ? nextFires(schedule, timeZone, Date.now(), 3) : [];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await gql(
        `mutation($vm: ID!, $action: VMScheduleAction!, $schedule: String!, $timeZone: String!, $description: String) {
          createVMSchedule(virtualMachineId: $vm, action: $action, schedule: $schedule, timeZone: $timeZone, description: $description) { id } }`,
        { vm: vm.id, action, schedule, timeZone, description: description.trim() || null },
      );
      setDescription('');
      await onCreated();
    } catch (caught) {
      setError({ message: messageOf(caught), field: caught instanceof ApiError ? caught.field : null });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name: string) => (error?.field === name ? error.message : null);
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-schedule-title">
      <h3 id="new-schedule-title">Add a schedule</h3>
      <div className="grid">
        <Field id="schedule-action" label="Action" error={fieldError('action')}>
          <select id="schedule-action" value={action} onChange={(e) => setAction(e.target.value)}>
            {SCHEDULE_ACTIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </Field>
        <Field
          id="schedule-cron"
          label="Cron (minute hour day month weekday)"
          error={fieldError('schedule')}
          hint={'text' in described ? described.text : `Not a schedule yet: ${described.error}`}
        >
          <input id="schedule-cron" className="mono" value={schedule} onChange={(e) => setSchedule(e.target.value)} required />
        </Field>
        <Field id="schedule-zone" label="Time zone (IANA)" error={fieldError('timeZone')} hint={zoneValid ? undefined : 'Not a time zone this browser knows.'}>
          <input id="schedule-zone" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} required />
        </Field>
        <Field id="schedule-description" label="Description (optional)" error={fieldError('description')}>
          <input id="schedule-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
      </div>
      {preview.length > 0 && (
        <p className="hint">
          Next: {preview.map((at, i) => (
            <span key={at}>
              {i > 0 && '; '}
              <ZonedFire at={at} zone={timeZone} />
            </span>
          ))}
        </p>
      )}
      <ErrorNote error={error && !['action', 'schedule', 'timeZone', 'description'].includes(error.field ?? '') ? error.message : null} />
      <button type="submit" className="primary" disabled={busy}>
        Add the schedule
      </button>
    </form>
  );
}
