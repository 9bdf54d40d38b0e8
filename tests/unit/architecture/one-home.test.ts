// One home for each concept: stream names beside their aggregates, the usage vocabulary in
// domain/instance/usage.ts, read-model SQL in projections/, one Caller and one Role. A second spelling
// compiles and passes every other test until the two drift apart, so the sources are read here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');

function sources(...dirs: string[]): Array<{ path: string; text: string }> {
  const found: Array<{ path: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) found.push({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') });
    }
  };
  for (const dir of dirs) walk(join(ROOT, dir));
  return found;
}

const isComment = (line: string) => /^\s*(?:\/\/|\/\*|\*)/.test(line);

/** `file:line: text` of every line of code matching, for a failure that says where. */
function matching(files: Array<{ path: string; text: string }>, pattern: RegExp): string[] {
  return files.flatMap(({ path, text }) =>
    text.split('\n').flatMap((line, i) => (!isComment(line) && pattern.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : [])),
  );
}

const CATEGORIES = ['account', 'domain', 'zone', 'region', 'host', 'storagepool', 'network', 'offering', 'template', 'config', 'job', 'instance', 'timer', 'vmschedule', 'affinitygroup'];

describe('one home for each concept', () => {
  it('spells stream names only beside their aggregates in domain/', () => {
    // 'zone-', `host-${id}` and the like: a category prefix closed by a quote or continued by an id.
    const inline = new RegExp(`['"\`](?:${CATEGORIES.join('|')})-(?:['"\`]|\\$\\{)`);
    expect(matching(sources('api', 'projections', 'adapters', 'sagas'), inline)).toEqual([]);
  });

  it('spells the usage event prefix only in domain/instance/usage.ts', () => {
    const prefix = /['"`]usage\.(?:['"`]|\$\{)/;
    // adapters/ is left out: the event store knows no usage, and its conformance suite filters by any prefix.
    const files = sources('domain', 'api', 'projections', 'sagas').filter((file) => file.path !== join('domain', 'instance', 'usage.ts'));
    expect(matching(files, prefix)).toEqual([]);
  });

  it('asks the read model in SQL only from projections/', () => {
    // The audit's table-by-table diff of two read-model files is about the database, not a read model's question.
    const files = sources('api', 'sagas').filter((file) => file.path !== join('api', 'audit', 'read-model-diff.ts'));
    expect(matching(files, /\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.prepare\(|\bprepared\(/)).toEqual([]);
  });

  it('declares Caller and Role once, in domain/account', () => {
    const files = sources('domain', 'api', 'projections', 'adapters', 'sagas');
    expect(matching(files, /^\s*(?:export )?(?:interface Caller\b|type Caller\s*=)/)).toEqual([expect.stringMatching(/^domain\/account\/caller\.ts:/)]);
    expect(matching(files, /^\s*(?:export )?type Role\s*=/)).toEqual([expect.stringMatching(/^domain\/account\/account\.ts:/)]);
  });

  it('reads API arguments with one module', () => {
    const readers = /^(?:export )?function (?:required|optional)[A-Z]\w*\(/;
    expect(new Set(matching(sources('api'), readers).map((line) => line.split(':')[0]))).toEqual(new Set([join('api', 'control-plane', 'args.ts')]));
  });
});
