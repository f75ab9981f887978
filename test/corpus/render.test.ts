// The render stage over a real third-party repository (argocd-example-apps from the corpus): every
// folder either renders to exactly what `kustomize build`, `helm template` or the files themselves
// give, object by object, or fails with an error naming the file and the reason.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { RenderError, RenderErrorReason } from '../../src/render/errors.ts';
import { Renderer } from '../../src/render/renderer.ts';
import { defaultRenderOptions } from '../../src/render/types.ts';
import type { RenderRequest, RenderResult } from '../../src/render/types.ts';
import { run } from '../harness/processes.ts';

const corpus = process.env.CAIRN_TEST_CORPUS;
if (!corpus || !existsSync(corpus)) {
  throw new Error(`CAIRN_TEST_CORPUS must name the corpus folder (got ${corpus ?? 'nothing'})`);
}
const APPS = join(corpus, 'argocd-example-apps');
const renderer = new Renderer({ cacheSize: 32 });

function renderRequest(path: string, releaseName: string, valueFiles: string[] = []): RenderRequest {
  const defaults = defaultRenderOptions();
  return { ...defaults, root: APPS, path, helm: { ...defaults.helm, releaseName, valueFiles } };
}

/** Every object of a YAML stream, parsed independently of Cairn (the `yaml` package, YAML 1.2). */
function objectsOf(text: string): unknown[] {
  return parseAllDocuments(text)
    .map((d) => {
      assert.deepEqual(d.errors, [], 'the reference output parses');
      return d.toJS() as unknown;
    })
    .filter((o) => o !== null && o !== undefined);
}

/** Cairn's objects equal the reference, in order. Cairn adds no metadata of its own at this stage. */
function assertSameObjects(result: RenderResult, reference: unknown[]): void {
  assert.ok(reference.length > 0, 'the reference has objects');
  assert.deepEqual(
    result.manifests.map((m) => m.object),
    reference,
  );
}

const kustomized = ['kustomize-guestbook', 'pre-post-sync', 'sock-shop'];
for (const folder of kustomized) {
  test(`${folder}: equals kustomize build, object by object`, async () => {
    const result = await renderer.render(renderRequest(folder, folder));
    assert.equal(result.renderer, 'kustomize');
    assertSameObjects(result, objectsOf(await run('kustomize', ['build', join(APPS, folder)])));
    assert.ok(result.manifests.every((m) => m.source.file === `${folder}/kustomization.yaml`));
    assert.ok(result.files.includes(`${folder}/kustomization.yaml`));
  });
}

test('pre-post-sync reaches ../kustomize-guestbook inside the repository and reads nothing else', async () => {
  const result = await renderer.render(renderRequest('pre-post-sync', 'pre-post-sync'));
  assert.deepEqual(result.files, [
    'kustomize-guestbook/guestbook-ui-deployment.yaml',
    'kustomize-guestbook/guestbook-ui-svc.yaml',
    'kustomize-guestbook/kustomization.yaml',
    'pre-post-sync/kustomization.yaml',
    'pre-post-sync/post-sync-job.yaml',
    'pre-post-sync/pre-sync-job.yaml',
  ]);
});

const charts: Array<{ folder: string; release: string; valueFiles: string[] }> = [
  { folder: 'helm-guestbook', release: 'guestbook', valueFiles: [] },
  { folder: 'helm-guestbook', release: 'guestbook', valueFiles: ['helm-guestbook/values-production.yaml'] },
  { folder: 'blue-green', release: 'blue-green', valueFiles: [] },
  { folder: 'apps', release: 'apps', valueFiles: [] },
];
for (const { folder, release, valueFiles } of charts) {
  test(`${folder}${valueFiles.length ? ` with ${valueFiles.join(', ')}` : ''}: equals helm template, object by object`, async () => {
    const result = await renderer.render(renderRequest(folder, release, valueFiles));
    assert.equal(result.renderer, 'helm');
    const args = [
      'template',
      release,
      join(APPS, folder),
      ...valueFiles.flatMap((f) => ['--values', join(APPS, f)]),
    ];
    assertSameObjects(result, objectsOf(await run('helm', args)));
    for (const m of result.manifests) {
      assert.match(m.source.file, new RegExp(`^${folder}/templates/[^/]+\\.yaml$`));
      assert.ok(existsSync(join(APPS, m.source.file)), `${m.source.file} is a file of the repository`);
    }
  });
}

test('helm-guestbook: values-production.yaml changes the Service type, and the digest', async () => {
  const plain = await renderer.render(renderRequest('helm-guestbook', 'guestbook'));
  const production = await renderer.render(
    renderRequest('helm-guestbook', 'guestbook', ['helm-guestbook/values-production.yaml']),
  );
  const type = (r: RenderResult) =>
    (r.manifests.find((m) => m.object.kind === 'Service')?.object.spec as { type: string }).type;
  assert.equal(type(plain), 'ClusterIP');
  assert.equal(type(production), 'LoadBalancer');
  assert.notEqual(plain.digest, production.digest);
});

for (const folder of ['guestbook', 'helm-hooks', 'sync-waves']) {
  test(`${folder}: equals its own files, parsed, in path order`, async () => {
    const result = await renderer.render(renderRequest(folder, folder));
    assert.equal(result.renderer, 'plain');
    const files = (await readdir(join(APPS, folder))).filter((f) => /\.ya?ml$/.test(f)).sort();
    const reference: unknown[] = [];
    for (const file of files) reference.push(...objectsOf(await readFile(join(APPS, folder, file), 'utf8')));
    assertSameObjects(result, reference);
    assert.deepEqual(
      result.files,
      files.map((f) => `${folder}/${f}`),
    );
  });
}

test('plugins/kustomized-helm rendered as a chart: its file:// dependency is copied in as helm dependency build would', async (t) => {
  const req = renderRequest('plugins/kustomized-helm', 'guestbook');
  const result = await renderer.render({ ...req, renderer: 'helm' });
  // The reference: helm's own dependency build on a scratch copy (the corpus stays untouched).
  const scratch = await mkdtemp(join(tmpdir(), 'cairn-corpus-helm-'));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  await cp(join(APPS, 'plugins/kustomized-helm'), join(scratch, 'plugins/kustomized-helm'), {
    recursive: true,
  });
  await cp(join(APPS, 'helm-guestbook'), join(scratch, 'helm-guestbook'), { recursive: true });
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(scratch, '.c'),
    HELM_CONFIG_HOME: join(scratch, '.f'),
    HELM_DATA_HOME: join(scratch, '.d'),
  };
  await run('helm', ['dependency', 'build', join(scratch, 'plugins/kustomized-helm')], { env });
  assertSameObjects(
    result,
    objectsOf(
      await run('helm', ['template', 'guestbook', join(scratch, 'plugins/kustomized-helm')], { env }),
    ),
  );
  assert.deepEqual([...new Set(result.manifests.map((m) => m.source.file))].sort(), [
    'helm-guestbook/templates/deployment.yaml',
    'helm-guestbook/templates/service.yaml',
  ]);
});

const failures: Array<{ folder: string; file: string; reason: RenderErrorReason; message: RegExp }> = [
  {
    folder: 'helm-dependency',
    file: 'helm-dependency/Chart.yaml',
    reason: RenderErrorReason.Dependency,
    message: /dependency "wordpress" from https:\/\/charts\.helm\.sh\/stable is not vendored in charts\//,
  },
  {
    folder: 'jsonnet-guestbook',
    file: 'jsonnet-guestbook/guestbook-ui.jsonnet',
    reason: RenderErrorReason.Unsupported,
    message: /Jsonnet, which Cairn does not render/,
  },
  {
    folder: 'jsonnet-guestbook-tla',
    file: 'jsonnet-guestbook-tla/guestbook-ui.jsonnet',
    reason: RenderErrorReason.Unsupported,
    message: /Jsonnet, which Cairn does not render/,
  },
  {
    folder: 'plugins/kasane',
    file: 'plugins/kasane/Kasanefile',
    reason: RenderErrorReason.Unsupported,
    message: /a Kasane package \(an Argo CD plugin\); Cairn does not run plugins/,
  },
  {
    folder: 'plugins/kustomized-helm',
    file: 'plugins/kustomized-helm/kustomization.yaml',
    reason: RenderErrorReason.ToolFailed,
    // kustomize's own complaint: `patches` holds a string where it expects a patch object.
    message:
      /kustomize build failed: invalid Kustomization: .*cannot unmarshal string into Go struct field Kustomization\.patches/,
  },
  {
    folder: 'plugins/nix',
    file: 'plugins/nix/flake.nix',
    reason: RenderErrorReason.Unsupported,
    message: /a Nix build \(an Argo CD plugin\); Cairn does not run plugins/,
  },
];
for (const { folder, file, reason, message } of failures) {
  test(`${folder}: fails naming ${file} and the reason`, async () => {
    await assert.rejects(renderer.render(renderRequest(folder, 'app')), (e: unknown) => {
      assert.ok(e instanceof RenderError, String(e));
      assert.equal(e.file, file, e.message);
      assert.equal(e.reason, reason, e.message);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('/tmp/'), `no private path in the message: ${e.message}`);
      return true;
    });
  });
}

test('every application folder of the corpus is covered by this suite', async () => {
  const covered = new Set([
    ...kustomized,
    ...charts.map((c) => c.folder),
    'guestbook',
    'helm-hooks',
    'sync-waves',
    ...failures.map((f) => f.folder),
  ]);
  const folders: string[] = [];
  for (const entry of await readdir(APPS, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (entry.name === 'plugins') {
      for (const plugin of await readdir(join(APPS, 'plugins'), { withFileTypes: true })) {
        if (plugin.isDirectory()) folders.push(`plugins/${plugin.name}`);
      }
    } else {
      folders.push(entry.name);
    }
  }
  assert.deepEqual(folders.sort(), [...covered].sort());
});
