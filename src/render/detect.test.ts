import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectRenderer, unsupportedFile } from './detect.ts';
import type { FolderEntry } from './detect.ts';
import { RenderError, RenderErrorReason } from './errors.ts';

const files = (...names: string[]): FolderEntry[] => names.map((name) => ({ name, kind: 'file' }));

test('kustomization (any of its names) wins over Chart.yaml, Chart.yaml over plain', () => {
  assert.deepEqual(detectRenderer('app', files('Chart.yaml', 'kustomization.yaml', 'values.yaml'), 'auto'), {
    renderer: 'kustomize',
    file: 'app/kustomization.yaml',
  });
  assert.deepEqual(detectRenderer('app', files('kustomization.yml'), 'auto'), {
    renderer: 'kustomize',
    file: 'app/kustomization.yml',
  });
  assert.deepEqual(detectRenderer('', files('Kustomization'), 'auto'), {
    renderer: 'kustomize',
    file: 'Kustomization',
  });
  assert.deepEqual(detectRenderer('c', files('Chart.yaml', 'values.yaml'), 'auto'), {
    renderer: 'helm',
    file: 'c/Chart.yaml',
  });
  assert.deepEqual(detectRenderer('p', files('a.yaml', 'x.jsonnet'), 'auto'), {
    renderer: 'plain',
    file: 'p',
  });
});

test('an explicit renderer is obeyed, and needs its file', () => {
  assert.deepEqual(detectRenderer('app', files('Chart.yaml', 'kustomization.yaml'), 'helm'), {
    renderer: 'helm',
    file: 'app/Chart.yaml',
  });
  assert.deepEqual(detectRenderer('app', files('kustomization.yaml'), 'plain'), {
    renderer: 'plain',
    file: 'app',
  });
  assert.throws(
    () => detectRenderer('app', files('a.yaml'), 'kustomize'),
    (e: unknown) => e instanceof RenderError && e.reason === RenderErrorReason.NotFound && e.file === 'app',
  );
  assert.throws(
    () => detectRenderer('app', files('a.yaml'), 'helm'),
    (e: unknown) => e instanceof RenderError && /^app: no Chart\.yaml/.test(e.message),
  );
});

test('misspelt markers are errors naming the file, not a silent plain render', () => {
  for (const name of [
    'Kustomization.yaml',
    'KUSTOMIZATION.YML',
    'kustomization.YAML',
    'chart.yaml',
    'Chart.yml',
  ]) {
    assert.throws(
      () => detectRenderer('app', files(name, 'deploy.yaml'), 'auto'),
      (e: unknown) =>
        e instanceof RenderError &&
        e.reason === RenderErrorReason.Unsupported &&
        e.file === `app/${name}` &&
        /rename this file/.test(e.message),
      name,
    );
  }
  // Beside the real one it is ignored, as kustomize ignores it.
  assert.equal(
    detectRenderer('app', files('Kustomization.yaml', 'kustomization.yaml'), 'auto').renderer,
    'kustomize',
  );
});

test('a folder named like a marker file, and Argo CD parameter overrides, are errors', () => {
  assert.throws(
    () => detectRenderer('app', [{ name: 'kustomization.yaml', kind: 'dir' }], 'auto'),
    (e: unknown) =>
      e instanceof RenderError &&
      e.file === 'app/kustomization.yaml' &&
      /a folder where a file was expected/.test(e.message),
  );
  for (const name of ['.argocd-source.yaml', '.argocd-source-guestbook.yaml']) {
    assert.throws(
      () => detectRenderer('app', files('Chart.yaml', name), 'auto'),
      (e: unknown) =>
        e instanceof RenderError && e.file === `app/${name}` && /Argo CD parameter overrides/.test(e.message),
    );
  }
});

test('unsupportedFile names the formats Cairn does not render', () => {
  assert.match(unsupportedFile('guestbook.jsonnet') ?? '', /Jsonnet/);
  assert.match(unsupportedFile('params.libsonnet') ?? '', /Jsonnet/);
  assert.match(unsupportedFile('Kasanefile') ?? '', /Kasane/);
  assert.match(unsupportedFile('flake.nix') ?? '', /Nix/);
  assert.match(unsupportedFile('plugin.yaml') ?? '', /plugin/);
  assert.equal(unsupportedFile('deployment.yaml'), undefined);
  assert.equal(unsupportedFile('README.md'), undefined);
});
