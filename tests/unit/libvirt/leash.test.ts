// The leash (adapters/hypervisor/libvirt/leash.ts) with real processes on this machine: a copy of
// /bin/sh named `sshd` stands for the sshd process that serves the agent's connection on a host
// (the leash finds its session by that name), and is SIGKILLed as the agent's death closes it.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leashed } from '../../../adapters/hypervisor/libvirt/leash.js';
import { shellCommandLine } from '../../../adapters/ssh/shell-quote.js';
import { until } from '../../support/child-process.js';

describe('a leashed command', () => {
  let dir: string;
  let session: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-leash-'));
    copyFileSync('/bin/sh', join(dir, 'sshd'));
  });
  afterEach(() => {
    session?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** `argv` as sshd runs a command: `sshd -c LINE` (`; :` keeps the session's sshd its parent). */
  const underSshd = (argv: readonly string[], stdin?: string): { exited: Promise<number | null> } => {
    // A session of its own, as sshd gives each command.
    session = spawn(join(dir, 'sshd'), ['-c', `${shellCommandLine(argv)}; status=$?; :; exit $status`], { detached: true, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    if (stdin !== undefined) session.stdin!.end(stdin);
    const child = session;
    return { exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  };
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

  it('given its session ends (the agent died), then it is stopped and the files it names are removed', async () => {
    const partial = join(dir, 'disk.qcow2.part-1');
    const earlier = join(dir, 'other.qcow2.part-2');
    writeFileSync(earlier, 'a disk copied before');
    underSshd(leashed([partial, earlier], ['sh', '-c', 'echo $$ > "$1.pid"; echo copying > "$1"; exec sleep 60', 'sh', partial]));
    const pid = await until('the command to start', async () => (existsSync(`${partial}.pid`) && existsSync(partial) ? Number(readFileSync(`${partial}.pid`, 'utf8')) : undefined), 10_000, 50);
    session!.kill('SIGKILL');
    await until('the files to be removed', async () => (!existsSync(partial) && !existsSync(earlier) ? true : undefined), 10_000, 100);
    await until('the command to be stopped', async () => (alive(pid) ? undefined : true), 10_000, 100);
  });

  it('given it ends while its session is there, then its files stay, its exit status is its own, and it read its standard input', async () => {
    const partial = join(dir, 'disk.qcow2.part-3');
    const { exited } = underSshd(leashed([partial], ['sh', '-c', 'cat > "$1"; exit 7', 'sh', partial]), 'the bytes of a disk');
    expect(await exited).toBe(7);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(readFileSync(partial, 'utf8')).toBe('the bytes of a disk');
  });

  it('refuses a file that is not one absolute path on one line', () => {
    expect(() => leashed(['relative/part'], ['true'])).toThrow(RangeError);
    expect(() => leashed(['/a\n/b'], ['true'])).toThrow(RangeError);
  });
});
