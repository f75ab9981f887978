// `cairn render` as a person runs it: a local folder or a Git revision, YAML or JSON.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { gitRepoFrom } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

function cairn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'cairn.js'), ...args],
      { timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

test('a local folder renders to YAML by default and to a JSON List with -o json', async () => {
  const yaml = await cairn(['render', join(FIXTURES, 'apps', 'web')]);
  assert.equal(yaml.code, 0, yaml.stderr);
  const kinds = parseAllDocuments(yaml.stdout).map((d) => (d.toJS() as { kind: string }).kind);
  assert.deepEqual(kinds.sort(), ['ConfigMap', 'Deployment', 'Secret', 'Service']);
  const json = await cairn(['render', join(FIXTURES, 'apps', 'web'), '-o', 'json']);
  const list = JSON.parse(json.stdout) as { kind: string; items: { kind: string }[] };
  assert.equal(list.kind, 'List');
  assert.equal(list.items.length, 4);
});

test('a Helm chart renders with --helm-values, --release-name and --namespace', async () => {
  const chart = join(FIXTURES, 'render', 'helm', 'web');
  const result = await cairn([
    'render',
    chart,
    '--helm-values',
    'values-prod.yaml',
    '--release-name',
    'shop',
    '-n',
    'prod',
    '-o',
    'json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const items = (
    JSON.parse(result.stdout) as { items: { kind: string; metadata: { name: string; namespace?: string } }[] }
  ).items;
  assert.ok(
    items.some((i) => i.metadata.name.startsWith('shop')),
    'the release name is used',
  );
  const plain = await cairn(['render', chart, '--release-name', 'shop', '-n', 'prod']);
  assert.notEqual(
    plain.stdout,
    (
      await cairn([
        'render',
        chart,
        '--helm-values',
        'values-prod.yaml',
        '--release-name',
        'shop',
        '-n',
        'prod',
      ])
    ).stdout,
    'the values file changes the output',
  );
});

test('--repo --revision --path renders a Git revision; a missing revision is a clear error', async () => {
  const repo = await gitRepoFrom(join(FIXTURES, 'apps'));
  const result = await cairn([
    'render',
    '--repo',
    repo.httpUrl,
    '--revision',
    'main',
    '--path',
    'web',
    '--allow-http',
    '-o',
    'json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((JSON.parse(result.stdout) as { items: unknown[] }).items.length, 4);
  const bySha = await cairn([
    'render',
    '--repo',
    repo.httpUrl,
    '--revision',
    repo.commit,
    '--path',
    'web',
    '--allow-http',
  ]);
  assert.equal(bySha.code, 0, bySha.stderr);
  const missing = await cairn([
    'render',
    '--repo',
    repo.httpUrl,
    '--revision',
    'no-such-branch',
    '--path',
    'web',
    '--allow-http',
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-branch/);
  const http = await cairn(['render', '--repo', repo.httpUrl, '--path', 'web']);
  assert.equal(http.code, 1, 'plain http is refused unless allowed');
});

test('a broken file fails the render naming the file; usage errors exit 2', async () => {
  const bad = await cairn(['render', join(FIXTURES, 'render')]);
  assert.notEqual(bad.code, 0);
  const usage = await cairn(['render']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /give one local PATH/);
  const both = await cairn(['render', 'x', '--repo', 'https://example.invalid/r.git']);
  assert.equal(both.code, 2);
});
