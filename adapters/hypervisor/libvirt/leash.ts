// A long remote command that makes files (a disk copy, a converted temp file) is tied to the agent
// that started it. An agent killed mid-copy leaves its commands running on the hosts (sshd does not
// stop a command whose client went away unless it has a terminal) and their half-made files behind,
// and nobody else knows those files: the agent may never come back, the orchestrator never talks to
// hosts. So the command watches, on the host itself, the sshd process that serves the agent's
// connection: once that process is gone (the agent's end of the connection closed) it stops the
// command, with everything it started, and removes the files it names. A command that ends while
// the agent is still there is left alone: what happens to its files then is the agent's business.
//
// What it cannot see: a connection that hangs without closing (a cut cable) keeps sshd alive until
// TCP gives up. The agent removes, before it copies a volume again, whatever partial copy of that
// volume an earlier run left (remote-disk-copy.ts), and the job's timeout ends the import.

/**
 * POSIX sh, run as `sh -c LEASH vmledger-leash FILES CMD ARGS…` (FILES: the paths, one a line).
 * The nearest sshd ancestor (sshd, or sshd-session since OpenSSH 9.8) is found through /proc. The
 * command runs as a process group of its own (setsid, util-linux), so that on the loss the watcher
 * TERMs it with everything it started (nbdkit's qemu-img included) and nothing else; it gets the
 * wrapper's standard input (a background job's is /dev/null unless redirected). The watcher has no
 * stdio of the channel's, so it never holds the channel open. Once the command is gone (30 s at
 * most), the files go.
 */
export const LEASH = [
  'files=$1; shift',
  'session=$$',
  'while [ "$session" -gt 1 ]; do',
  '  case $(cat /proc/$session/comm 2>/dev/null) in sshd*) break ;; esac',
  "  session=$(sed -n 's/^.*) [A-Za-z] \\([0-9]*\\) .*$/\\1/p' /proc/$session/stat 2>/dev/null)",
  '  [ -n "$session" ] || session=1',
  'done',
  // Alive: there, and not a zombie (a dead sshd stays in /proc until its parent reaps it).
  "alive() { case $(sed -n 's/^.*) \\([A-Za-z]\\) .*$/\\1/p' /proc/$1/stat 2>/dev/null) in ''|Z|X) return 1 ;; esac; }",
  'exec 3<&0',
  'if command -v setsid >/dev/null 2>&1; then setsid "$@" 0<&3 3<&- & else "$@" 0<&3 3<&- & fi',
  'work=$!',
  'exec 3<&-',
  'watch=',
  'if [ "$session" -gt 1 ]; then',
  '  (',
  '    while alive $session; do sleep 1; done',
  '    kill -TERM -- -$work 2>/dev/null || kill -TERM $work 2>/dev/null',
  '    tries=0',
  '    while [ -d /proc/$work ] && [ $tries -lt 30 ]; do sleep 1; tries=$((tries + 1)); done',
  '    printf "%s\\n" "$files" | while IFS= read -r f; do [ -z "$f" ] || rm -f -- "$f"; done',
  '  ) </dev/null >/dev/null 2>&1 &',
  '  watch=$!',
  'fi',
  'wait $work',
  'status=$?',
  // Still served: the watcher goes. The session gone: the watcher stopped the command, and now removes the files.
  'if [ -n "$watch" ]; then',
  // A command that read its input from the channel ends at the same moment as a dying sshd closes it
  // (EOF): give the sshd a moment to be seen gone before taking it for alive.
  '  alive $session && sleep 0.5',
  '  if alive $session; then kill -KILL $watch 2>/dev/null; else wait $watch; fi',
  'fi',
  'exit $status',
].join('\n');

/** `argv` on the host, stopped and its `files` removed should the agent's connection go away first. */
export function leashed(files: readonly string[], argv: readonly string[]): string[] {
  for (const file of files) if (file.includes('\n') || !file.startsWith('/')) throw new RangeError(`a leashed file must be an absolute path on one line: ${JSON.stringify(file)}`);
  return ['sh', '-c', LEASH, 'vmledger-leash', files.join('\n'), ...argv];
}
