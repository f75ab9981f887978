import assert from 'node:assert/strict';
import { realpath } from 'node:fs/promises';
import { test } from 'node:test';
import { CANARY, tempRepo } from '../../test/render/helpers.ts';
import { RenderError, RenderErrorReason } from './errors.ts';
import { joinInside, newReadBudget, openRoot, readInside, requireInside, resolveInside } from './guard.ts';
import { defaultRenderLimits } from './types.ts';

const namer = { file: 'app/kustomization.yaml', field: 'resources' };

function refused(fn: () => unknown, reason: RenderErrorReason, file: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RenderError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.file, file, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

async function refusedAsync(p: Promise<unknown>, reason: RenderErrorReason, file: string, pattern: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RenderError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.file, file, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes(CANARY), e.message);
    return true;
  });
}

test('joinInside: relative paths are joined and normalised; climbing inside the repository is fine', () => {
  assert.equal(joinInside('app/overlays/dev', '../../base', namer), 'app/base');
  assert.equal(joinInside('app', './x.yaml', namer), 'app/x.yaml');
  assert.equal(joinInside('', 'a/', namer), 'a');
  assert.equal(joinInside('a/b', '../..', namer), '');
});

test('joinInside: escapes, absolute paths and URLs are refused, naming the file that wrote them', () => {
  refused(
    () => joinInside('app', '../../etc', namer),
    RenderErrorReason.OutsideRepository,
    namer.file,
    /resources "\.\.\/\.\.\/etc" points outside the repository/,
  );
  refused(() => joinInside('', '..', namer), RenderErrorReason.OutsideRepository, namer.file, /outside/);
  refused(
    () => joinInside('app', '/etc/passwd', namer),
    RenderErrorReason.OutsideRepository,
    namer.file,
    /absolute path/,
  );
  refused(
    () => joinInside('app', 'file:///etc/passwd', namer),
    RenderErrorReason.OutsideRepository,
    namer.file,
    /is a URL/,
  );
  refused(
    () => joinInside('app', 'git::https://x/y', namer),
    RenderErrorReason.OutsideRepository,
    namer.file,
    /is a URL/,
  );
  refused(() => joinInside('app', '', namer), RenderErrorReason.InvalidRequest, namer.file, /empty path/);
  refused(() => joinInside('app', 'a\0b', namer), RenderErrorReason.InvalidRequest, namer.file, /NUL/);
});

test('resolveInside follows relative symlinks inside the repository, as the kernel does', async (t) => {
  const root = await openRoot(
    await tempRepo(t, {
      'shared/base/deploy.yaml': 'kind: Deployment',
      'shared/other.yaml': 'x',
      'app/base': { symlink: '../shared/base' },
      'app/alias.yaml': { symlink: 'base/deploy.yaml' },
      // `..` after a symlinked folder climbs from where the folder really is: shared/other.yaml.
      'app/climb.yaml': { symlink: 'base/../other.yaml' },
    }),
  );
  const alias = await requireInside(root, 'app/alias.yaml', namer);
  assert.equal(alias.real, 'shared/base/deploy.yaml');
  assert.equal(alias.kind, 'file');
  assert.deepEqual(
    alias.links.map((l) => [l.at, l.target]),
    [
      ['app/alias.yaml', 'base/deploy.yaml'],
      ['app/base', '../shared/base'],
    ],
  );
  assert.equal((await requireInside(root, 'app/climb.yaml', namer)).real, 'shared/other.yaml');
  assert.equal((await requireInside(root, 'app/base', namer)).kind, 'dir');
  assert.equal(await resolveInside(root, 'app/missing.yaml', namer), undefined);
  assert.equal(await resolveInside(root, 'app/alias.yaml/under-a-file', namer), undefined);
});

test('resolveInside refuses absolute, escaping, dangling and looping symlinks, naming the symlink', async (t) => {
  const root = await openRoot(
    await tempRepo(t, {
      'app/passwd.yaml': { symlink: '/etc/passwd' },
      'app/up.yaml': { symlink: '../../outside.yaml' },
      'app/deep/up.yaml': { symlink: '../../../../../../../../etc/hostname' },
      'app/gone.yaml': { symlink: 'nowhere.yaml' },
      'app/chain.yaml': { symlink: 'hop.yaml' },
      'app/hop.yaml': { symlink: '../../secret' },
      'app/loop-a': { symlink: 'loop-b' },
      'app/loop-b': { symlink: 'loop-a' },
      'app/dir-out': { symlink: '../..' },
      [`app/${CANARY}.yaml`]: 'x',
    }),
  );
  await refusedAsync(
    resolveInside(root, 'app/passwd.yaml', namer),
    RenderErrorReason.BadSymlink,
    'app/passwd.yaml',
    /symlink to the absolute path "\/etc\/passwd"/,
  );
  await refusedAsync(
    resolveInside(root, 'app/up.yaml', namer),
    RenderErrorReason.OutsideRepository,
    'app/up.yaml',
    /points outside the repository/,
  );
  await refusedAsync(
    resolveInside(root, 'app/deep/up.yaml', namer),
    RenderErrorReason.OutsideRepository,
    'app/deep/up.yaml',
    /outside/,
  );
  await refusedAsync(
    resolveInside(root, 'app/gone.yaml', namer),
    RenderErrorReason.BadSymlink,
    'app/gone.yaml',
    /dangling symlink: its target "nowhere\.yaml" does not exist/,
  );
  await refusedAsync(
    resolveInside(root, 'app/chain.yaml', namer),
    RenderErrorReason.OutsideRepository,
    'app/hop.yaml',
    /outside/,
  );
  await refusedAsync(
    resolveInside(root, 'app/loop-a', namer),
    RenderErrorReason.BadSymlink,
    'app/loop-a',
    /symlink loop/,
  );
  // A symlinked folder above the root, then down again into the repository's own name, is outside.
  await refusedAsync(
    resolveInside(root, 'app/dir-out/repo/x', namer),
    RenderErrorReason.OutsideRepository,
    'app/dir-out',
    /outside/,
  );
});

test('readInside: regular files under the per-file and per-render byte limits, refused before reading', async (t) => {
  const root = await openRoot(await tempRepo(t, { 'a.yaml': 'x'.repeat(100), 'b.yaml': 'y'.repeat(60) }));
  const limits = { ...defaultRenderLimits(), maxFileBytes: 80, maxTotalBytes: 100 };
  const budget = newReadBudget();
  const small = await readInside(await requireInside(root, 'b.yaml', namer), limits, budget);
  assert.equal(small.bytes.length, 60);
  assert.match(small.sha256, /^[0-9a-f]{64}$/);
  await refusedAsync(
    readInside(await requireInside(root, 'a.yaml', namer), limits, budget),
    RenderErrorReason.LimitExceeded,
    'a.yaml',
    /100 bytes is over the limit of 80 bytes per file/,
  );
  await refusedAsync(
    readInside(await requireInside(root, 'b.yaml', namer), limits, budget),
    RenderErrorReason.LimitExceeded,
    'b.yaml',
    /more than 100 bytes in all/,
  );
});

test('openRoot: the root is resolved once, so a symlinked temp folder is no escape route', async (t) => {
  const repo = await tempRepo(t, { 'a.yaml': 'x' });
  assert.equal(await openRoot(repo), await realpath(repo));
  await refusedAsync(
    openRoot('relative/path'),
    RenderErrorReason.InvalidRequest,
    'relative/path',
    /absolute/,
  );
  await refusedAsync(
    openRoot(`${repo}/a.yaml`),
    RenderErrorReason.NotFound,
    `${repo}/a.yaml`,
    /not a readable folder/,
  );
});
