// How values read: times in the browser's zone with UTC on hover, sizes with their units.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A moment in the browser's zone; hovering shows it in UTC. */
export function Time({ at, className }: { at: string | null | undefined; className?: string }) {
  if (!at) return <span className={className}>—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={`${date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`} className={className}>
      {dateTime.format(date)}
    </time>
  );
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}

export function formatMiB(mib: number): string {
  return formatBytes(mib * 1024 * 1024);
}

export function formatMHz(mhz: number): string {
  return mhz >= 1000 ? `${(mhz / 1000).toFixed(1).replace(/\.0$/, '')} GHz` : `${mhz} MHz`;
}

/** A duration in words: "3 d 4 h", "5 h 12 min", "40 s". */
export function formatDuration(ms: number): string {
  // Floored: "4 d 23 h left" is true up to the last second, "5 d" would not be.
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min`;
  return `${seconds} s`;
}

/**
 * Who did it, from an event's `actor`: a user (`{ kind: 'user', accountId, role }`: named by its
 * account when the caller may see it) or a system component (`{ kind: 'system', component }`).
 */
export function actorText(actor: unknown, accountNames: ReadonlyMap<string, string>): string {
  if (typeof actor !== 'object' || actor === null) return 'unknown';
  const a = actor as Record<string, unknown>;
  if (a['kind'] === 'system') return `system (${String(a['component'] ?? 'unknown')})`;
  const accountId = typeof a['accountId'] === 'string' ? a['accountId'] : '';
  const name = accountNames.get(accountId) ?? `account ${accountId.slice(0, 8)}`;
  return a['role'] ? `${name} (${String(a['role'])})` : name;
}
