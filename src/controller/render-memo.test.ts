// When an Application's earlier render still holds after a commit: only if none of its inputs changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderStillValid } from './application.ts';

const memo = (files: string[], cacheable = true) => ({
  options: '{}',
  commit: 'a'.repeat(40),
  manifests: [],
  files: new Set(files),
  cacheable,
});

test('a render stays valid when the commit changed none of the files it read and nothing in its folder', () => {
  const overlay = memo(['envs/prod/kustomization.yaml', 'base/deploy.yaml', 'base/kustomization.yaml']);
  assert.equal(renderStillValid(overlay, ['other/app.yaml'], 'envs/prod'), true);
  assert.equal(renderStillValid(overlay, ['base/deploy.yaml'], 'envs/prod'), false, 'a base it read');
  assert.equal(
    renderStillValid(overlay, ['envs/prod/new.yaml'], 'envs/prod'),
    false,
    'a new file in its folder',
  );
  assert.equal(renderStillValid(overlay, ['base/unused.yaml'], 'envs/prod'), true, 'a file it never read');
  assert.equal(renderStillValid(overlay, ['envs/production/x.yaml'], 'envs/prod'), true);
  assert.equal(renderStillValid(overlay, ['README.md'], '.'), false, 'the root folder holds every file');
  assert.equal(renderStillValid(memo(['a/x.yaml'], false), [], 'a'), false, 'a remote base is never reused');
});
