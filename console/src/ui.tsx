// Shared pieces of the screens: loading, empty and error states in words, progress and capacity bars.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { messageOf } from './api.ts';

/** Loads data for a screen; `reload` refetches without blanking what is shown. */
export function useData<T>(load: () => Promise<T>, deps: readonly unknown[]): { data: T | undefined; error: string | null; loading: boolean; reload: () => Promise<void> } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await run();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (caught) {
      if (mine !== generation.current) return;
      setError(messageOf(caught));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

export function ErrorNote({ error, onDismiss }: { error: string | null | undefined; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss the error">
          ×
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const clamped = Math.max(0, Math.min(100, value));
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={clamped}>
      <div className="progress-fill" style={{ width: `${clamped}%` }} />
    </div>
  );
}

/** Used against total, as a bar with its numbers; amber past 75 %, red past 90 %. */
export function CapacityBar({ label, used, total, format }: { label: string; used: number; total: number; format: (n: number) => string }) {
  const exact = total > 0 ? (used / total) * 100 : 0;
  const percent = Math.round(exact);
  const level = percent > 90 ? 'high' : percent > 75 ? 'mid' : 'low';
  // A little used of a lot (14 GiB of a 10 TiB pool) is not nothing: "< 1 %", and a sliver of bar.
  const percentText = used > 0 && percent === 0 ? '< 1' : String(percent);
  return (
    <div className="capacity">
      <div className="capacity-text">
        <span>{label}</span>
        <span>
          {format(used)} of {format(total)} ({percentText} %)
        </span>
      </div>
      <div className={`progress capacity-${level}`} role="meter" aria-label={`${label} allocated`} aria-valuemin={0} aria-valuemax={total} aria-valuenow={used}>
        <div className={`progress-fill${used > 0 ? ' some' : ''}`} style={{ width: `${Math.min(100, exact)}%` }} />
      </div>
    </div>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`state state-${state.toLowerCase()}`}>{state}</span>;
}

/** A labelled form control with the API's error for it beside it. */
export function Field({ label, error, hint, children, id }: { label: string; error?: ReactNode; hint?: ReactNode; children: ReactNode; id: string }) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <div className="hint">{hint}</div>}
      {error && (
        <div className="field-error" id={`${id}-error`} role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

/** A table that scrolls sideways inside its box on a narrow screen, rather than widening the page. */
export function TableBox({ children, label, className }: { children: ReactNode; label: string; className?: string }) {
  return (
    <div className={`table-box${className ? ` ${className}` : ''}`} role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}
