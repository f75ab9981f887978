import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isRemoteReference,
  kustomizationReferences,
  pluginConfigReferences,
  toolComplaint,
} from './kustomize.ts';

test('kustomizationReferences finds every field kustomize v5 reads a path from', () => {
  const refs = kustomizationReferences({
    resources: ['deploy.yaml', '../base'],
    bases: ['../old-base'],
    components: ['../../components/x'],
    crds: ['crds/thing.yaml'],
    configurations: ['config/names.yaml'],
    generators: ['gen.yaml', 'apiVersion: builtin\nkind: ConfigMapGenerator\n'],
    transformers: ['trans.yaml'],
    validators: ['val.yaml'],
    patchesStrategicMerge: ['smp.yaml', 'apiVersion: v1\nkind: X\n'],
    patchesJson6902: [{ path: 'json6902.yaml', target: {} }],
    patches: [{ path: 'patch.yaml' }, { patch: 'inline' }, 'as-a-string.yaml'],
    replacements: [{ path: 'replacements.yaml' }, { source: {} }],
    configMapGenerator: [
      { files: ['key=settings.properties', 'plain.txt'], envs: ['a.env'], env: 'b.env', literals: ['x=y'] },
    ],
    secretGenerator: [{ files: ['tls.crt'], envs: ['secret.env'] }],
    openapi: { path: 'schema.json' },
    helmCharts: [{ valuesFile: 'values.yaml', additionalValuesFiles: ['more.yaml'] }],
    helmGlobals: { chartHome: 'charts', configHome: 'helm-config' },
    helmChartInflationGenerator: [{ chartHome: 'old-charts', values: 'old-values.yaml' }],
    namePrefix: 'not-a-path/',
  });
  assert.deepEqual(
    refs.map((r) => `${r.kind} ${r.field} ${r.value}`),
    [
      'resource resources deploy.yaml',
      'resource resources ../base',
      'resource bases ../old-base',
      'resource components ../../components/x',
      'plugin generators gen.yaml',
      'plugin transformers trans.yaml',
      'plugin validators val.yaml',
      'file crds crds/thing.yaml',
      'file configurations config/names.yaml',
      'file patchesStrategicMerge smp.yaml',
      'file patches as-a-string.yaml',
      'file patches[].path patch.yaml',
      'file patchesJson6902[].path json6902.yaml',
      'file replacements[].path replacements.yaml',
      'file configMapGenerator[].files settings.properties',
      'file configMapGenerator[].files plain.txt',
      'file configMapGenerator[].envs a.env',
      'file configMapGenerator[].env b.env',
      'file secretGenerator[].files tls.crt',
      'file secretGenerator[].envs secret.env',
      'file openapi.path schema.json',
      'file helmCharts[].valuesFile values.yaml',
      'file helmCharts[].additionalValuesFiles more.yaml',
      'file helmChartInflationGenerator[].values old-values.yaml',
      'file helmChartInflationGenerator[].chartHome old-charts',
      'file helmGlobals.chartHome charts',
      'file helmGlobals.configHome helm-config',
    ],
  );
});

test('pluginConfigReferences: builtin generator and transformer configs name files too', () => {
  assert.deepEqual(
    pluginConfigReferences({ apiVersion: 'builtin', kind: 'PatchTransformer', path: 'p.yaml' }).map(
      (r) => r.value,
    ),
    ['p.yaml'],
  );
  assert.deepEqual(
    pluginConfigReferences({ kind: 'ConfigMapGenerator', files: ['k=v.txt'], envs: ['e.env'] }).map(
      (r) => r.value,
    ),
    ['v.txt', 'e.env'],
  );
  assert.deepEqual(
    pluginConfigReferences({ kind: 'PatchStrategicMergeTransformer', paths: ['a.yaml', 'b.yaml'] }).map(
      (r) => r.value,
    ),
    ['a.yaml', 'b.yaml'],
  );
  assert.deepEqual(
    pluginConfigReferences({
      kind: 'HelmChartInflationGenerator',
      valuesFile: 'v.yaml',
      chartHome: 'ch',
    }).map((r) => r.value),
    ['ch', 'v.yaml'],
  );
});

test('isRemoteReference: every form kustomize would fetch; local paths are local', () => {
  for (const remote of [
    'https://github.com/org/repo//base?ref=v1',
    'http://example.com/app.yaml',
    'github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6',
    'GitHub.com/org/repo',
    'git::https://example.com/repo.git',
    'git@github.com:org/repo.git//base',
    'gh:org/repo',
    'ssh://git@example.com/repo',
    'file:///etc',
    'dev.azure.com/org/_git/repo',
    'example.com/org/repo//base?ref=main',
  ]) {
    assert.equal(isRemoteReference(remote), true, remote);
  }
  for (const local of [
    '../base',
    'deploy.yaml',
    './overlays/dev',
    'github-like/base',
    'configs.d/app.yaml',
  ]) {
    assert.equal(isRemoteReference(local), false, local);
  }
});

test("toolComplaint keeps kustomize's error, drops its deprecation warnings, stays one line and bounded", () => {
  const stderr = "# Warning: 'bases' is deprecated.\nError: accumulating resources: boom\n\n";
  assert.equal(toolComplaint(stderr), 'accumulating resources: boom');
  assert.ok(toolComplaint(`Error: ${'x'.repeat(5000)}`).length <= 2001);
});
