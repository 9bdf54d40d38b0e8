// Issue 16 item 9: what pipelining buys an external import. A 2 GiB source disk, half its blocks random
// (1 MiB of random bytes at every other MiB, the rest zero), sits on the external host, which is reached
// over a link limited to 400 Mbit/s (tests/testbed/slow-link.sh: a network namespace, a veth pair and
// tc), so the link, not the shared CPU, bounds the copy, as between real hosts. kvm-a's side of the
// agent's copy code (adapters/hypervisor/libvirt/remote-disk-copy.ts) copies it, each round:
//   convert alone     `qemu-img convert -O qcow2` on the source host, as CloudStack's mode runs it
//   copy alone        that converted file sent over the link into kvm-a's storage, as CloudStack's mode
//                     sends it (the source's `cat` read by the agent into kvm-a's `cat`)
//   cloudstack mode   copyRemoteDisk(…, 'cloudstack'): the two one after the other
//   streamed mode     copyRemoteDisk(…, 'streamed'): nbdkit's ssh plugin and qemu-img on kvm-a
// and prints streamed ÷ max(convert, copy) (target ≤ 1.15), and the peak temp space each mode takes on
// the source host (its temp directory sampled every 100 ms). Each mode's copy is checked identical.
// Uses the running testbed when there is one (VMLEDGER_TEST_LIBVIRT), else starts it for the run.
import { execFile, execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { chownSync, closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { HostCommands } from '../../adapters/hypervisor/libvirt/host-commands.js';
import { copyRemoteDisk, type DiskCopyMode } from '../../adapters/hypervisor/libvirt/remote-disk-copy.js';
import { SshConnection } from '../../adapters/ssh/ssh-connection.js';
import { readTestbed, testbedFile } from '../integration/libvirt/world.js';
import { ratioFigure, spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SOURCE_MIB = 2048;
const RATE = '400mbit';
/** A round takes about two minutes: at most this many, whatever --rounds says. */
const MAX_ROUNDS = 3;
const COPY_TIMEOUT_MS = 20 * 60_000;

/** 2 GiB raw, sparse: 1 MiB of random bytes at every other MiB. */
function writeSource(path: string): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, SOURCE_MIB * MiB);
    const block = Buffer.alloc(MiB);
    for (let at = 0; at < SOURCE_MIB; at += 2) {
      randomFillSync(block);
      writeSync(fd, block, 0, MiB, at * MiB);
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes the files of `dir` take on disk (what `du` says), now. */
function used(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    try {
      bytes += statSync(join(dir, name)).blocks * 512;
    } catch {
      // Removed between the listing and the stat.
    }
  }
  return bytes;
}

/** Runs `work` while sampling the space `dir` takes; resolves with the time it took and the peak. */
async function sampled(dir: string, work: () => Promise<unknown>): Promise<{ ms: number; peakBytes: number }> {
  let peakBytes = used(dir);
  const timer = setInterval(() => {
    peakBytes = Math.max(peakBytes, used(dir));
  }, 100);
  const started = performance.now();
  try {
    await work();
    return { ms: performance.now() - started, peakBytes };
  } finally {
    clearInterval(timer);
  }
}

export async function importFigures({ rounds, report }: SuiteContext): Promise<void> {
  const here = join(import.meta.dirname, '..', 'testbed');
  let file = testbedFile();
  const ownTestbed = file === undefined;
  if (ownTestbed) file = execFileSync('bash', [join(here, 'libvirt.sh'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  const testbed = readTestbed(file!);
  const external = testbed.external;
  const kvmA = testbed.hosts.find((host) => host.name === 'kvm-a')!;
  const dir = join(external!.storagePath, 'bench-import');
  const tmp = join(dir, 'tmp');
  const closers: Array<() => Promise<unknown>> = [];
  try {
    if (!external) throw new Error(`${file} describes no external host: restart the testbed`);
    const [address, port] = execFileSync('bash', [join(here, 'slow-link.sh'), 'start', RATE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!.split(' ');
    mkdirSync(tmp, { recursive: true });
    const source = join(dir, 'source.raw');
    writeSource(source);
    const uid = Number(execFileSync('id', ['-u', external.username], { encoding: 'utf8' }).trim());
    for (const path of [dir, tmp, source]) chownSync(path, uid, uid);

    const remote = { host: address!, port: Number(port), username: external.username };
    const toA = new SshConnection({ host: kvmA.address, port: kvmA.sshPort, username: kvmA.username, privateKeyPath: kvmA.privateKeyPath, hostKeySha256: kvmA.hostKeySha256 });
    closers.push(() => toA.close());
    const toSource = new SshConnection({ ...remote, password: external.password, hostKeySha256: null });
    closers.push(() => toSource.close());
    const onA = new HostCommands(toA, 'kvm-a');
    const converted = join(tmp, 'converted.qcow2');
    const copy = (name: string) => join(kvmA.storagePath, `bench-import-${name}.qcow2`);
    const identical = async (path: string) => {
      await run('qemu-img', ['compare', '-q', '-f', 'qcow2', '-F', 'raw', path, source]);
      rmSync(path, { force: true });
    };

    const convertAlone = async (): Promise<{ ms: number; peakBytes: number }> =>
      sampled(tmp, async () => {
        const result = await toSource.exec(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', '--', source, converted], { timeoutMs: COPY_TIMEOUT_MS });
        if (result.exitCode !== 0) throw new Error(`converting on the source failed: ${result.stderr}`);
      });
    const copyAlone = async (): Promise<number> => {
      const started = performance.now();
      const pipe = new PassThrough();
      const [sent, received] = await Promise.all([
        toSource.exec(['cat', '--', converted], { stdoutTo: pipe, timeoutMs: COPY_TIMEOUT_MS }),
        onA.exec(['sh', '-c', 'cat > "$1"', 'sh', copy('alone')], 'receiving', { stdin: pipe, timeoutMs: COPY_TIMEOUT_MS }),
      ]);
      if (sent.exitCode !== 0 || received.exitCode !== 0) throw new Error(`copying failed: ${sent.stderr} ${received.stderr}`);
      const ms = performance.now() - started;
      rmSync(converted, { force: true });
      rmSync(copy('alone'), { force: true });
      return ms;
    };
    const mode = (chosen: DiskCopyMode) => () =>
      sampled(tmp, () =>
        copyRemoteDisk(
          onA,
          { remote, password: external.password, sourcePath: source, sourceFormat: 'raw', destinationPath: copy(chosen), tmpPath: tmp, timeoutMs: COPY_TIMEOUT_MS },
          chosen,
        ),
      );

    const samples = { convert: [] as number[], copy: [] as number[], cloudstack: [] as number[], streamed: [] as number[], cloudstackPeak: [] as number[], streamedPeak: [] as number[] };
    const n = Math.min(rounds, MAX_ROUNDS);
    for (let round = 0; round < n; round++) {
      samples.convert.push((await convertAlone()).ms);
      samples.copy.push(await copyAlone());
      const sequential = await mode('cloudstack')();
      await identical(copy('cloudstack'));
      samples.cloudstack.push(sequential.ms);
      samples.cloudstackPeak.push(sequential.peakBytes);
      const streamed = await mode('streamed')();
      await identical(copy('streamed'));
      samples.streamed.push(streamed.ms);
      samples.streamedPeak.push(streamed.peakBytes);
    }
    const what = `2 GiB raw, half random, external host → kvm-a over ${RATE}`;
    const s = (ms: readonly number[]) => ms.map((v) => v / 1000);
    report(spreadFigure(`import copy (${what}): convert alone (qemu-img on the source)`, 's', s(samples.convert)));
    report(spreadFigure('import copy: copy alone (the converted qcow2 over the link)', 's', s(samples.copy)));
    report(spreadFigure('import copy: CloudStack\'s mode (convert, then copy)', 's', s(samples.cloudstack)));
    const limit = samples.convert.map((convert, i) => Math.max(convert, samples.copy[i]!) / 1000);
    report(ratioFigure('import copy: streamed mode, of max(convert, copy) (target ≤ 115 %)', 's', s(samples.streamed), limit));
    const mib = (bytes: readonly number[]) => bytes.map((v) => v / MiB);
    report(spreadFigure('import copy: peak temp space on the source, CloudStack\'s mode', 'MiB', mib(samples.cloudstackPeak)));
    report(spreadFigure('import copy: peak temp space on the source, streamed mode', 'MiB', mib(samples.streamedPeak)));
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    for (const name of ['alone', 'cloudstack', 'streamed']) rmSync(join(kvmA.storagePath, `bench-import-${name}.qcow2`), { force: true });
    execFileSync('bash', [join(here, 'slow-link.sh'), 'stop'], { stdio: 'inherit' });
    if (ownTestbed) execFileSync('bash', [join(here, 'libvirt.sh'), 'stop'], { stdio: 'inherit' });
  }
}
