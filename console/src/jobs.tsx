// Jobs pushed live: every job the console starts, and every PENDING job the caller may see (looked for
// every few seconds with asyncJobs), is followed with the asyncJobUpdated subscription over
// graphql-transport-ws. Screens listen for the pushes to show steps, progress and the states they bring.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { gql, subscribe } from './api.ts';
import { JOB_FIELDS, type Connection, type Job } from './model.ts';

type Listener = (job: Job) => void;

export interface JobWatch {
  /** The jobs followed in this tab, newest first. */
  readonly jobs: readonly Job[];
  /** Follows a job (one the console just started, or one shown on a screen). */
  track(job: Job): void;
  /** Calls `listener` on each push of any followed job; returns the unsubscribe. */
  listen(listener: Listener): () => void;
}

const JobContext = createContext<JobWatch | null>(null);

export function useJobs(): JobWatch {
  const watch = useContext(JobContext);
  if (!watch) throw new Error('useJobs outside the job watch');
  return watch;
}

/** Runs `listener` on every job push while the component is shown. */
export function useJobUpdates(listener: Listener): void {
  const { listen } = useJobs();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => listen((job) => latest.current(job)), [listen]);
}

const DISCOVERY_MS = 4000;
const KEEP = 50;

export function JobProvider({ children }: { children: ReactNode }) {
  const [jobs, setJobs] = useState<Map<string, Job>>(new Map());
  const listeners = useRef(new Set<Listener>());
  const followed = useRef(new Map<string, () => void>());

  const publish = useCallback((job: Job) => {
    setJobs((previous) => {
      const next = new Map(previous);
      next.set(job.id, job);
      if (next.size > KEEP) {
        const oldest = [...next.values()].filter((j) => j.status !== 'PENDING').sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
        if (oldest) next.delete(oldest.id);
      }
      return next;
    });
    for (const listener of listeners.current) listener(job);
  }, []);

  const track = useCallback(
    (job: Job) => {
      publish(job);
      if (job.status !== 'PENDING' || followed.current.has(job.id)) return;
      const stop = subscribe<{ asyncJobUpdated: Job }>(
        `subscription($id: ID!) { asyncJobUpdated(id: $id) { ${JOB_FIELDS} } }`,
        { id: job.id },
        (data) => publish(data.asyncJobUpdated),
        () => {
          followed.current.delete(job.id);
          // The push ended (done, or the socket dropped): read the job once more, so nothing is missed.
          void gql<{ asyncJob: Job | null }>(`query($id: ID!) { asyncJob(id: $id) { ${JOB_FIELDS} } }`, { id: job.id })
            .then(({ asyncJob }) => asyncJob && publish(asyncJob))
            .catch(() => undefined);
        },
      );
      followed.current.set(job.id, stop);
    },
    [publish],
  );

  useEffect(() => {
    let stopped = false;
    const discover = async () => {
      try {
        const { asyncJobs } = await gql<{ asyncJobs: Connection<Job> }>(
          `query { asyncJobs(status: PENDING, first: 50) { nodes { ${JOB_FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
        );
        if (!stopped) for (const job of asyncJobs.nodes) if (!followed.current.has(job.id)) track(job);
      } catch {
        // A failed look is retried on the next tick; the screens show their own errors.
      }
    };
    void discover();
    const timer = setInterval(() => void discover(), DISCOVERY_MS);
    const subscriptions = followed.current;
    return () => {
      stopped = true;
      clearInterval(timer);
      for (const stop of subscriptions.values()) stop();
      subscriptions.clear();
    };
  }, [track]);

  const listen = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);

  const value = useMemo<JobWatch>(
    () => ({ jobs: [...jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), track, listen }),
    [jobs, track, listen],
  );
  return <JobContext.Provider value={value}>{children}</JobContext.Provider>;
}

/** How a job's command reads: "deployVirtualMachine" → "Deploy", "createVMSnapshot" → "Create VM snapshot", "importVm" → "Import VM". */
export function jobTitle(cmd: string): string {
  // Words of the camel case, an acronym (VM) kept whole: create | VM | Snapshot.
  // "importVm" is the API's spelling of VM: read as the acronym (Import VM, not Import vm).
  const words = cmd.replace(/VirtualMachine$/, '').replace(/Vm(?=[A-Z]|$)/g, 'VM').match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g) ?? [cmd];
  const text = words.map((word) => (/^[A-Z]+$/.test(word) && word.length > 1 ? word : word.toLowerCase())).join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
