import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenderError } from './errors.ts';
import {
  allowedRepository,
  chartMetadata,
  helmOptionsProblem,
  helmOutputToManifests,
  helmTemplateArgs,
  sourceMapper,
} from './helm.ts';
import type { ChartInputs } from './helm.ts';
import { defaultRenderLimits, defaultRenderOptions } from './types.ts';
import type { HelmOptions } from './types.ts';

const helm = (changes: Partial<HelmOptions> = {}): HelmOptions => ({
  ...defaultRenderOptions().helm,
  releaseName: 'shop',
  ...changes,
});

test('helmOptionsProblem: nothing reaches the command line that helm could read as a flag', () => {
  assert.equal(helmOptionsProblem(helm()), undefined);
  assert.equal(
    helmOptionsProblem(
      helm({
        kubeVersion: 'v1.31.2',
        apiVersions: ['monitoring.coreos.com/v1', 'argoproj.io/v1alpha1/Rollout'],
      }),
    ),
    undefined,
  );
  const cases: Array<[Partial<HelmOptions>, RegExp]> = [
    [{ releaseName: '' }, /releaseName is required/],
    [{ releaseName: '--post-renderer=/bin/sh' }, /not a valid release name/],
    [{ releaseName: 'Shop' }, /not a valid release name/],
    [{ releaseName: 'x'.repeat(54) }, /not a valid release name/],
    [{ namespace: '-n' }, /not a namespace name/],
    [{ kubeVersion: '--set=x' }, /not a Kubernetes version/],
    [{ apiVersions: ['a,b'] }, /not an API version/],
    [{ apiVersions: ['-x'] }, /not an API version/],
  ];
  for (const [changes, pattern] of cases)
    assert.match(helmOptionsProblem(helm(changes)) ?? '(none)', pattern, JSON.stringify(changes));
});

test('helmTemplateArgs: flags with =, then -- before the release name and the chart', () => {
  assert.deepEqual(
    helmTemplateArgs(
      helm({ namespace: 'prod', kubeVersion: '1.31.0', apiVersions: ['x.io/v1'] }),
      '/tmp/w/chart',
      ['/tmp/w/values/1.yaml'],
    ),
    [
      'template',
      '--namespace=prod',
      '--include-crds',
      '--kube-version=1.31.0',
      '--api-versions=x.io/v1',
      '--values=/tmp/w/values/1.yaml',
      '--',
      'shop',
      '/tmp/w/chart',
    ],
  );
});

test('chartMetadata: name and dependencies from Chart.yaml and a v1 requirements.yaml', () => {
  assert.deepEqual(
    chartMetadata(
      'c/Chart.yaml',
      {
        name: 'web',
        dependencies: [{ name: 'db', version: '1.0.0', repository: 'https://charts.example' }, 'junk'],
      },
      { dependencies: [{ name: 'cache', repository: 'file://../cache' }] },
    ),
    {
      name: 'web',
      dependencies: [
        { name: 'db', repository: 'https://charts.example', version: '1.0.0' },
        { name: 'cache', repository: 'file://../cache', version: '' },
      ],
    },
  );
  assert.throws(
    () => chartMetadata('c/Chart.yaml', { version: '1' }, null),
    (e: unknown) => e instanceof RenderError && /^c\/Chart\.yaml: Chart\.yaml has no name/.test(e.message),
  );
});

const chart: ChartInputs = {
  dir: 'charts/web',
  chartFile: 'charts/web/Chart.yaml',
  name: 'web',
  files: [],
  local: [
    {
      name: 'common',
      chart: {
        dir: 'libs/common',
        chartFile: 'libs/common/Chart.yaml',
        name: 'common',
        files: [],
        local: [],
        fetch: [],
      },
    },
  ],
  fetch: [],
};

test('sourceMapper: helm Source paths back to repository files, copied file:// dependencies to their own folder', () => {
  const toRepo = sourceMapper(chart);
  assert.equal(toRepo('web/templates/deploy.yaml'), 'charts/web/templates/deploy.yaml');
  assert.equal(toRepo('web/charts/common/templates/sa.yaml'), 'libs/common/templates/sa.yaml');
  assert.equal(toRepo('web/charts/vendored/templates/x.yaml'), 'charts/web/charts/vendored/templates/x.yaml');
});

test('helmOutputToManifests attributes each document to its template and counts documents per template', () => {
  const output = [
    '---',
    '# Source: web/charts/common/templates/sa.yaml',
    'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web',
    '---',
    '# Source: web/templates/services.yaml',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: a',
    '---',
    '# Source: web/templates/services.yaml',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: b',
    '',
  ].join('\n');
  const { manifests } = helmOutputToManifests(chart, output, defaultRenderLimits());
  assert.deepEqual(
    manifests.map((m) => [m.object.metadata.name, m.source.file, m.source.document]),
    [
      ['web', 'libs/common/templates/sa.yaml', 1],
      ['a', 'charts/web/templates/services.yaml', 1],
      ['b', 'charts/web/templates/services.yaml', 2],
    ],
  );
});

test('helmOutputToManifests: a template rendering bad YAML is named, with the line in its output', () => {
  const output =
    '---\n# Source: web/templates/ok.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n# Source: web/templates/bad.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  x: 1\n  x: 2\n';
  assert.throws(
    () => helmOutputToManifests(chart, output, defaultRenderLimits()),
    (e: unknown) =>
      e instanceof RenderError &&
      e.file === 'charts/web/templates/bad.yaml' &&
      /duplicate key "x"/.test(e.message),
  );
});

test('allowedRepository matches whole URLs or paths below them, never a longer host or sibling path', () => {
  const allow = ['https://charts.example/stable/', 'oci://registry.example/charts'];
  assert.equal(allowedRepository('https://charts.example/stable', allow), true);
  assert.equal(allowedRepository('https://charts.example/stable/', allow), true);
  assert.equal(allowedRepository('https://charts.example/stable/sub', allow), true);
  assert.equal(allowedRepository('oci://registry.example/charts', allow), true);
  assert.equal(allowedRepository('https://charts.example/stable-evil', allow), false);
  assert.equal(allowedRepository('https://charts.example.evil/stable', allow), false);
  assert.equal(allowedRepository('oci://registry.example/charts-other', allow), false);
  assert.equal(allowedRepository('', allow), false);
  assert.equal(allowedRepository('https://charts.example/stable', ['']), false);
});
