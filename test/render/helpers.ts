// Helpers for the render tests: throwaway repositories (with symlinks), requests, error checks that
// also prove no file content leaked into the message, and golden files.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { RenderError, displayPath } from '../../src/render/errors.ts';
import type { RenderErrorReason } from '../../src/render/errors.ts';
import { defaultRenderLimits, defaultRenderOptions } from '../../src/render/types.ts';
import { parseYaml } from '../../src/render/yaml.ts';
import type { RenderRequest, RenderResult } from '../../src/render/types.ts';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures/render');

/**
 * Planted in hostile fixtures where a careless error message would quote it (a "password", the
 * target of a symlink that escapes). No error message may ever contain it.
 */
export const CANARY = 'CANARY-s3cr3t-7f3e91';

/** A file's content, or a symlink with its (verbatim) target. */
export type RepoEntry = string | Uint8Array | { symlink: string };

/** A fresh repository folder holding `entries`, removed when the test ends. */
export async function tempRepo(t: TestContext, entries: Record<string, RepoEntry>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-render-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'repo');
  await mkdir(root);
  for (const [path, entry] of Object.entries(entries)) {
    const at = join(root, path);
    await mkdir(dirname(at), { recursive: true });
    if (typeof entry === 'object' && 'symlink' in entry) await symlink(entry.symlink, at);
    else await writeFile(at, entry);
  }
  return root;
}

/** A copy of the fixture repository that a test may change. */
export async function fixtureCopy(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-render-fixtures-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(FIXTURES, dir, { recursive: true });
  return dir;
}

export function request(root: string, path: string, changes: Partial<RenderRequest> = {}): RenderRequest {
  const defaults = defaultRenderOptions();
  return {
    ...defaults,
    root,
    path,
    helm: { ...defaults.helm, releaseName: 'shop' },
    ...changes,
  };
}

/**
 * The render fails with a RenderError naming `file` first, with `reason`, a message matching
 * `pattern`, and nothing of the canary anywhere in the message or its causes.
 */
export async function assertRenderFails(
  rendering: Promise<unknown>,
  expected: { file: string; reason: RenderErrorReason; message: RegExp },
): Promise<RenderError> {
  let caught: unknown;
  try {
    await rendering;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof RenderError, `expected a RenderError, got ${String(caught)}`);
  assert.equal(caught.file, expected.file, caught.message);
  assert.ok(
    caught.message.startsWith(`${displayPath(expected.file)}: `),
    `the message starts with the file: ${caught.message}`,
  );
  assert.equal(caught.reason, expected.reason, caught.message);
  assert.match(caught.message, expected.message);
  for (let e: unknown = caught; e instanceof Error; e = e.cause) {
    assert.ok(!e.message.includes(CANARY), `file content leaked into an error message: ${e.message}`);
  }
  return caught;
}

/**
 * The render output as people read it: each object under a comment naming its source. Written as
 * YAML 1.1 so that strings such as "yes" stay quoted for readers that resolve like kubectl; the text
 * is checked to parse back (with Cairn's parser) to exactly the rendered objects.
 */
export function goldenText(result: RenderResult): string {
  const docs = result.manifests.map((m) => {
    const where = `${m.source.file} document ${m.source.document}${m.source.item ? ` item ${m.source.item}` : ''}`;
    return `# ${where}\n${stringify(m.object, { lineWidth: 0, version: '1.1' })}`;
  });
  const text = `# renderer: ${result.renderer}\n---\n${docs.join('---\n')}`;
  const back = parseYaml(text, { file: 'golden', limits: defaultRenderLimits(), mode: 'kubernetes' })
    .map((d) => d.value)
    .filter((v) => v !== null);
  assert.deepEqual(
    back,
    result.manifests.map((m) => m.object),
    'the golden text reads back as the same objects',
  );
  return text;
}

/** Compares with test/fixtures/render/golden/NAME.yaml; UPDATE_GOLDEN=1 rewrites it instead. */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const path = join(FIXTURES, 'golden', `${name}.yaml`);
  if (process.env.UPDATE_GOLDEN === '1') {
    await writeFile(path, actual);
    return;
  }
  assert.ok(existsSync(path), `no golden file ${path}: run the test with UPDATE_GOLDEN=1 to create it`);
  assert.equal(
    actual,
    await readFile(path, 'utf8'),
    `${name} differs from its golden file (UPDATE_GOLDEN=1 updates it)`,
  );
}
