// Jobs: the running and recent jobs the caller may see, newest first; a running job's step and
// progress are pushed live (asyncJobUpdated over graphql-transport-ws).
import { useCallback, useEffect, useRef, useState } from 'react';
import { gql, messageOf } from '../api.ts';
import { Time } from '../format.tsx';
import { jobTitle, useJobs, useJobUpdates } from '../jobs.tsx';
import { JOB_FIELDS, type Connection, type Job } from '../model.ts';
import { Link } from '../router.tsx';
import { Empty, ErrorNote, Loading, ProgressBar, TableBox } from '../ui.tsx';

/** How far a job has got: a finished job is past any running one, a running one as far as its progress. */
function reach(job: Job): number {
  return job.status === 'PENDING' ? (job.progress ?? 0) : 101;
}

/**
 * The list with a pushed job in it: replacing its row unless the row is further on (a push older
 * than the list), or added on top when the status filter lets it in. On a tie the push wins: it was
 * sent no earlier than the row was read.
 */
function withPush(list: readonly Job[], job: Job, status: string): Job[] {
  const shown = list.find((j) => j.id === job.id);
  if (shown) return reach(shown) > reach(job) ? [...list] : list.map((j) => (j.id === job.id ? job : j));
  return status && job.status !== status ? [...list] : [job, ...list];
}

export function Jobs() {
  const { track } = useJobs();
  const [status, setStatus] = useState('');
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  // The pushes that arrive while the list is being read: the list may have been read before them, so
  // they are applied over it when it comes, not lost (they may be a job's last push). Also the mark
  // of the newest load: an older one's answer is dropped.
  const duringLoad = useRef<Map<string, Job> | null>(null);

  const load = useCallback(async () => {
    const buffered = new Map<string, Job>();
    duringLoad.current = buffered;
    try {
      const { asyncJobs } = await gql<{ asyncJobs: Connection<Job> }>(
        `query($status: JobStatus) { asyncJobs(status: $status, first: 50) { nodes { ${JOB_FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
        { status: status || null },
      );
      if (duringLoad.current !== buffered) return;
      duringLoad.current = null;
      const list = [...buffered.values()].reduce((current, job) => withPush(current, job, status), asyncJobs.nodes);
      setJobs(list);
      setError(null);
      // The instances' names; an expunged instance is no longer listed and keeps its id.
      const ids = [...new Set(list.map((job) => job.instanceId).filter((id): id is string => id !== null))];
      if (ids.length > 0) {
        const { virtualMachines } = await gql<{ virtualMachines: Connection<{ id: string; name: string }> }>(
          `query($ids: [ID!], $first: Int) { virtualMachines(ids: $ids, first: $first) { nodes { id name } pageInfo { hasNextPage endCursor } totalCount } }`,
          { ids, first: ids.length },
        );
        setNames(new Map(virtualMachines.nodes.map((vm) => [vm.id, vm.name])));
      }
      for (const job of list) if (job.status === 'PENDING') track(job);
    } catch (caught) {
      if (duringLoad.current === buffered) duringLoad.current = null;
      setError(messageOf(caught));
    }
  }, [status, track]);

  useEffect(() => {
    void load();
  }, [load]);

  useJobUpdates(
    useCallback(
      (job: Job) => {
        duringLoad.current?.set(job.id, job);
        setJobs((current) => (current ? withPush(current, job, status) : current));
      },
      [status],
    ),
  );

  return (
    <section aria-labelledby="jobs-title">
      <div className="heading">
        <h1 id="jobs-title">Jobs</h1>
        <div className="field inline">
          <label htmlFor="job-status">Status</label>
          <select id="job-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any</option>
            <option value="PENDING">Running</option>
            <option value="SUCCEEDED">Succeeded</option>
            <option value="FAILED">Failed</option>
          </select>
        </div>
      </div>
      <ErrorNote error={error} />
      {!jobs && !error && <Loading what="jobs" />}
      {jobs && jobs.length === 0 && <Empty>No job {status ? 'with this status ' : ''}yet.</Empty>}
      {jobs && jobs.length > 0 && (
        <TableBox label="Jobs" className="cards-on-phone">
          <thead>
            <tr>
              <th scope="col">Operation</th>
              <th scope="col">Instance</th>
              <th scope="col">Status</th>
              <th scope="col">Step and progress</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id} data-job={job.id}>
                <td data-label="Operation">{jobTitle(job.cmd)}</td>
                <td data-label="Instance">{job.instanceId ? <Link to={`/instances/${job.instanceId}`}>{names.get(job.instanceId) ?? job.instanceId.slice(0, 8)}</Link> : '—'}</td>
                <td data-label="Status">
                  <span className={`status status-${job.status.toLowerCase()}`}>{job.status === 'PENDING' ? 'Running' : job.status === 'SUCCEEDED' ? 'Succeeded' : 'Failed'}</span>
                  {job.error && (
                    <div className="field-error">
                      {job.error.code}: {job.error.message}
                    </div>
                  )}
                </td>
                <td data-label="Step and progress" className="job-progress">
                  <span className="small">{job.step ?? (job.status === 'PENDING' ? 'queued' : '—')}</span>
                  <ProgressBar value={job.progress ?? (job.status === 'PENDING' ? 0 : 100)} label={`${jobTitle(job.cmd)} progress`} />
                </td>
                <td data-label="Started">
                  <Time at={job.createdAt} />
                </td>
                <td data-label="Ended">
                  <Time at={job.completedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </section>
  );
}
