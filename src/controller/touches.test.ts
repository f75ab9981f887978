// Which Applications a commit touched: those go first in the work queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { touches } from './controller.ts';

test('a commit touches an Application when a changed file lies under its path', () => {
  const changed = ['apps/web/deploy.yaml', 'apps/webshop/values.yaml', 'README.md'];
  assert.equal(touches(changed, 'apps/web'), true);
  assert.equal(touches(changed, './apps/web/'), true, 'a leading ./ and a trailing / do not matter');
  assert.equal(touches(changed, 'apps/we'), false, 'a prefix of a folder name is another folder');
  assert.equal(touches(changed, 'apps/api'), false);
  assert.equal(touches(changed, '.'), true, 'the root holds every file');
  assert.equal(touches([], '.'), false);
});
