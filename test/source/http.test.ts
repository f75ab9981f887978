// The source stage against the harness's smart-HTTP git server: refs resolve to the commits git
// itself reports, trees are read-only copies, force-pushes are followed, an unchanged repository
// costs no transfer, and submodules are never fetched.
import assert from 'node:assert/strict';
import { chmod, lstat, readFile, readdir, readlink, symlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { GitHttpServer, createBareRepo } from '../harness/git-server.ts';
import { git, gitServers, uniqueName, waitUntil } from '../harness/index.ts';
import { freePort } from '../harness/processes.ts';
import { SourceError, type GitCredentials } from '../../src/source/index.ts';
import { addFixture, commit, head, newMirrors, push, scratch, snapshot, tag, workTree } from './helpers.ts';

test('over HTTP with basic auth, branch, tag, semver range, commit and full ref resolve to the right commit', async (t) => {
  const root = await scratch(t);
  const password = `pw-${uniqueName('secret')}`;
  const server = await GitHttpServer.start({ root, users: { deploy: password } });
  t.after(() => server.stop());
  await createBareRepo(root, 'app');
  const pushUrl = server.url('app', { user: 'deploy', password });

  const work = await workTree(t);
  await addFixture(work, 'app');
  const c1 = await commit(work, {}, 'import');
  await tag(work, 'v1.2.0');
  const c2 = await commit(work, { 'base/configmap.yaml': 'kind: ConfigMap # 1.4.3\n' });
  await tag(work, 'v1.4.3', { annotated: true });
  await git(['branch', 'release/1.x'], { cwd: work });
  const c3 = await commit(work, { 'base/configmap.yaml': 'kind: ConfigMap # 1.5.0\n' });
  await tag(work, 'v1.5.0', { annotated: true });
  const c4 = await commit(work, { 'base/configmap.yaml': 'kind: ConfigMap # 2.0.0-rc.1\n' });
  await tag(work, 'v2.0.0-rc.1');
  await push(work, pushUrl, ['main', 'release/1.x', `${c3}:refs/pull/7/head`, '--tags']);

  const { mirrors } = await newMirrors(t);
  const credentials: GitCredentials = { kind: 'basic', username: 'deploy', password };
  const url = server.url('app');
  const cases: [Parameters<typeof mirrors.fetch>[0]['ref'], string, string][] = [
    [{ branch: 'main' }, 'refs/heads/main', c4],
    [{ branch: 'release/1.x' }, 'refs/heads/release/1.x', c2],
    [{ tag: 'v1.2.0' }, 'refs/tags/v1.2.0', c1],
    [{ tag: 'v1.4.3' }, 'refs/tags/v1.4.3', c2], // annotated: the commit, not the tag object
    [{ semver: '>=1.2.0 <2' }, 'refs/tags/v1.5.0', c3],
    [{ semver: '~1.4' }, 'refs/tags/v1.4.3', c2],
    [{ semver: '1.x' }, 'refs/tags/v1.5.0', c3],
    [{ semver: '>=2.0.0-rc.0' }, 'refs/tags/v2.0.0-rc.1', c4],
    [{ commit: c1 }, c1, c1],
    [{ name: 'refs/pull/7/head' }, 'refs/pull/7/head', c3],
    [{ name: 'refs/heads/main' }, 'refs/heads/main', c4],
  ];
  for (const [ref, expectedRef, expectedCommit] of cases) {
    const artifact = await mirrors.fetch({ url, credentials, ref });
    assert.deepEqual(
      { url: artifact.url, ref: artifact.ref, commit: artifact.commit },
      { url, ref: expectedRef, commit: expectedCommit },
      JSON.stringify(ref),
    );
    assert.equal(artifact.dir, join(mirrors.options.cacheDir, 'trees', expectedCommit));
    const shown = (await git(['show', `${expectedCommit}:base/configmap.yaml`], { cwd: work })).toString();
    assert.equal(await readFile(join(artifact.dir, 'base', 'configmap.yaml'), 'utf8'), shown);
  }

  // The same repository without credentials, or with the password in the URL.
  await assert.rejects(mirrors.fetch({ url, ref: { branch: 'main' } }), (e: unknown) => {
    assert.ok(e instanceof SourceError);
    assert.equal(e.reason, 'AuthFailed');
    assert.ok(e.message.startsWith(`${url}: git ls-remote failed: `), e.message);
    return true;
  });
  const embedded = await mirrors.fetch({ url: pushUrl, ref: { tag: 'v1.2.0' } });
  assert.equal(embedded.commit, c1);
  assert.equal(embedded.url, url, 'the artifact names the URL without its credentials');
});

test('a tree is a read-only copy of the commit: modes, symlinks and contents, shared between refs', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('tree');
  await createBareRepo(http.root, name);
  const work = await workTree(t);
  await addFixture(work, 'app');
  await commit(work, { 'bin/run.sh': '#!/bin/sh\necho run\n' });
  await chmod(join(work, 'bin', 'run.sh'), 0o755);
  await symlink('base/configmap.yaml', join(work, 'link.yaml'));
  const sha = await commit(work, {}, 'exec bit and symlink');
  await tag(work, 'v1.0.0');
  await push(work, http.url(name), ['main', '--tags']);

  const { mirrors, events } = await newMirrors(t);
  const artifact = await mirrors.fetch({ url: http.url(name), ref: { branch: 'main' } });
  assert.equal(artifact.commit, sha);
  assert.equal(artifact.subject, 'exec bit and symlink');

  const files = (await git(['ls-files'], { cwd: work })).trim().split('\n').sort();
  const written = (await readdir(artifact.dir, { recursive: true, withFileTypes: true }))
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(artifact.dir.length + 1))
    .sort();
  assert.deepEqual(written, files);
  for (const entry of await readdir(artifact.dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const mode = (await lstat(path)).mode;
    if (entry.isSymbolicLink()) continue;
    assert.equal(mode & 0o222, 0, `${path} has no write permission (mode ${(mode & 0o777).toString(8)})`);
  }
  assert.equal((await lstat(artifact.dir)).mode & 0o222, 0, 'the tree folder itself is read-only');
  assert.equal((await lstat(join(artifact.dir, 'bin', 'run.sh'))).mode & 0o111, 0o111, 'exec bit kept');
  assert.equal((await lstat(join(artifact.dir, 'README.md'))).mode & 0o111, 0, 'no exec bit added');
  assert.equal(await readlink(join(artifact.dir, 'link.yaml')), 'base/configmap.yaml');

  const byTag = await mirrors.fetch({ url: http.url(name), ref: { tag: 'v1.0.0' } });
  assert.equal(byTag.dir, artifact.dir);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['listed-refs', 'fetched', 'tree-written', 'listed-refs', 'fetch-skipped', 'tree-reused'],
  );
  assert.deepEqual(await readdir(join(mirrors.options.cacheDir, 'scratch')), [], 'no scratch files left');
  assert.deepEqual(
    (await readdir(join(mirrors.options.cacheDir, 'trees'))).filter((n) => n.startsWith('.')),
    [],
    'no half-written trees left',
  );
});

test('a force-pushed branch is followed, and deleted branches and tags are pruned from the mirror', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('force');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  const first = await commit(work, { 'app.yaml': 'version: 1\n' });
  await git(['branch', 'old'], { cwd: work });
  await tag(work, 'gone');
  await push(work, url, ['main', 'old', '--tags']);

  const { mirrors } = await newMirrors(t);
  const before = await mirrors.fetch({ url, ref: { branch: 'main' } });
  assert.equal(before.commit, first);

  // Rewrite main with a commit that does not descend from the first one.
  await git(['checkout', '--quiet', '--orphan', 'rewritten'], { cwd: work });
  const rewritten = await commit(work, { 'app.yaml': 'version: 2\n' }, 'rewritten history');
  await push(work, url, ['rewritten:main'], { force: true });
  await push(work, url, [':refs/heads/old', ':refs/tags/gone']);
  const after = await mirrors.fetch({ url, ref: { branch: 'main' } });
  assert.equal(after.commit, rewritten);
  assert.equal(after.subject, 'rewritten history');
  assert.notEqual(after.dir, before.dir);
  assert.equal(await readFile(join(after.dir, 'app.yaml'), 'utf8'), 'version: 2\n');
  assert.equal(
    await readFile(join(before.dir, 'app.yaml'), 'utf8'),
    'version: 1\n',
    'old trees stay as they were',
  );

  const mirror = mirrors.mirrorPath(url);
  const refs = await git(['--git-dir', mirror, 'for-each-ref', '--format=%(objectname) %(refname)']);
  assert.equal(refs.trim(), `${rewritten} refs/heads/main`);
  await assert.rejects(mirrors.fetch({ url, ref: { branch: 'old' } }), /: branch "old" not found/);
});

test('a second fetch of an unchanged repository transfers no objects', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('unchanged');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  await addFixture(work, 'app');
  await commit(work, {}, 'import');
  await tag(work, 'v1.0.0', { annotated: true });
  await push(work, url, ['main', '--tags']);

  const { mirrors, events } = await newMirrors(t);
  assert.deepEqual((await mirrors.update({ url })).changed, ['refs/heads/main', 'refs/tags/v1.0.0']);
  const objects = join(mirrors.mirrorPath(url), 'objects');
  const filled = await snapshot(objects);
  assert.ok(
    Object.values(filled).some((v) => v !== 'dir'),
    'the first fetch wrote objects',
  );

  // An explicit fetch from the network: nothing changed, so nothing is received or written.
  assert.deepEqual((await mirrors.update({ url })).changed, []);
  assert.deepEqual(await snapshot(objects), filled);

  // fetch() does not even run git fetch when the mirror has the commit.
  events.length = 0;
  const artifact = await mirrors.fetch({ url, ref: { tag: 'v1.0.0' } });
  assert.equal(artifact.commit, await head(work));
  assert.ok(!events.some((e) => e.kind === 'fetched'), JSON.stringify(events));
  assert.ok(events.some((e) => e.kind === 'fetch-skipped'));
  assert.deepEqual(await snapshot(objects), filled);

  // The snapshot does see a transfer when there is one.
  const next = await commit(work, { 'app.yaml': 'new\n' });
  await push(work, url, ['main']);
  assert.deepEqual((await mirrors.update({ url })).changed, ['refs/heads/main']);
  assert.notDeepEqual(await snapshot(objects), filled);
  events.length = 0;
  assert.equal((await mirrors.fetch({ url, ref: { branch: 'main' } })).commit, next);
  assert.ok(
    events.some((e) => e.kind === 'fetch-skipped'),
    'update() already fetched the new commit',
  );
});

test('concurrent fetches of one repository run one after another and fetch once', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('concurrent');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  const sha = await commit(work, { 'a.yaml': 'a: 1\n' });
  await push(work, url, ['main']);

  const { mirrors, events } = await newMirrors(t);
  const artifacts = await Promise.all(
    Array.from({ length: 5 }, () => mirrors.fetch({ url, ref: { branch: 'main' } })),
  );
  assert.ok(artifacts.every((a) => a.commit === sha && a.dir === artifacts[0]!.dir));
  assert.equal(events.filter((e) => e.kind === 'fetched').length, 1);
  assert.equal(events.filter((e) => e.kind === 'tree-written').length, 1);
  assert.equal(events.filter((e) => e.kind === 'fetch-skipped').length, 4);
});

test('a repository with submodules: the submodules are never fetched', async (t) => {
  // A server that counts requests: a submodule fetch over http would show up here.
  let requests = 0;
  const counter = createServer((_req, res) => {
    requests++;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => counter.close(() => resolve())));
  const port = (counter.address() as AddressInfo).port;

  const { http } = await gitServers();
  const name = uniqueName('super');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  await commit(work, {
    '.gitmodules': `[submodule "lib"]\n\tpath = lib\n\turl = http://127.0.0.1:${port}/lib.git\n`,
    'app.yaml': 'a: 1\n',
  });
  // A gitlink without a checkout: `git add --all` would drop it, so commit the index as it is.
  await git(['update-index', '--add', '--cacheinfo', `160000,${'5'.repeat(40)},lib`], { cwd: work });
  await git(
    ['-c', 'user.name=T', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-m', 'add submodule'],
    {
      cwd: work,
    },
  );
  const sha = await head(work);
  await push(work, url, ['main']);
  assert.match(await git(['ls-tree', 'HEAD', 'lib'], { cwd: work }), /^160000 commit 5{40}\tlib$/m);

  const { mirrors } = await newMirrors(t);
  await mirrors.update({ url });
  const artifact = await mirrors.fetch({ url, ref: { branch: 'main' } });
  assert.equal(artifact.commit, sha);
  assert.equal(requests, 0, 'nothing asked the submodule server');
  assert.deepEqual(
    await readdir(join(artifact.dir, 'lib')).catch(() => []),
    [],
    'the submodule folder is empty',
  );
  assert.equal(await readFile(join(artifact.dir, 'app.yaml'), 'utf8'), 'a: 1\n');
});

test('over the size limits: the mirror is removed and no tree is written, with a clear error', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('big');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  await commit(work, { 'big.txt': 'x'.repeat(200_000) });
  await push(work, url, ['main']);

  const small = await newMirrors(t, { maxMirrorBytes: 1024 });
  await assert.rejects(small.mirrors.fetch({ url, ref: { branch: 'main' } }), (e: unknown) => {
    assert.ok(e instanceof SourceError && e.reason === 'TooLarge', String(e));
    assert.match(
      e.message,
      /^http:\/\/127\.0\.0\.1:\d+\/big-\w+\.git: the repository takes [\d.]+ KiB, over the limit of 1\.0 KiB \(maxMirrorBytes\); its mirror was removed$/,
    );
    return true;
  });
  assert.deepEqual(await readdir(join(small.cacheDir, 'mirrors')), []);

  const narrow = await newMirrors(t, { maxTreeBytes: 100_000 });
  await assert.rejects(narrow.mirrors.fetch({ url, ref: { branch: 'main' } }), (e: unknown) => {
    assert.ok(e instanceof SourceError && e.reason === 'TooLarge', String(e));
    assert.match(e.message, /has 195\.3 KiB of files, over the limit of 97\.7 KiB \(maxTreeBytes\)$/);
    return true;
  });
  assert.deepEqual(await readdir(join(narrow.cacheDir, 'trees')), []);
});

test('a git repository around the cache folder does not configure the git that Cairn runs', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('outer');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  const sha = await commit(work, { 'a.yaml': 'a: 1\n' });
  await push(work, url, ['main']);

  // Were this repository's config read, every URL of the test server would point at a closed port.
  const outer = await workTree(t);
  const closed = `http://127.0.0.1:${await freePort()}/`;
  await git(['config', `url.${closed}.insteadOf`, `http://127.0.0.1:${http.port}/`], { cwd: outer });
  assert.match(await git(['config', '--list'], { cwd: outer }), /insteadof/i);

  const { mirrors } = await newMirrors(t, { cacheDir: join(outer, 'cache') });
  assert.equal((await mirrors.fetch({ url, ref: { branch: 'main' } })).commit, sha);
});

test('changedPaths lists the files two commits differ in, from the mirror alone', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('changed');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  const first = await commit(work, { 'a/one.yaml': '1\n', 'b/two.yaml': '2\n', 'c/three.yaml': '3\n' });
  const second = await commit(work, { 'b/two.yaml': '22\n', 'd/four.yaml': '4\n' });
  await push(work, url, ['main']);
  const { mirrors } = await newMirrors(t);
  assert.equal(await mirrors.changedPaths(url, first, second), undefined, 'no mirror yet');
  await mirrors.fetch({ url, ref: { branch: 'main' } });
  assert.deepEqual(await mirrors.changedPaths(url, first, second), ['b/two.yaml', 'd/four.yaml']);
  assert.deepEqual(await mirrors.changedPaths(url, second, second), []);
  assert.equal(await mirrors.changedPaths(url, first, '0'.repeat(40)), undefined, 'unknown commit');
});

test("a new commit's tree links the files the previous tree has unchanged and writes the rest, as a checkout would", async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('linked');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  const files: Record<string, string> = { 'bin/run.sh': '#!/bin/sh\necho run\n' };
  for (let i = 0; i < 40; i++) files[`apps/app-${String(i).padStart(2, '0')}/config.yaml`] = `index: ${i}\n`;
  await commit(work, files);
  await chmod(join(work, 'bin', 'run.sh'), 0o755);
  await symlink('apps/app-00/config.yaml', join(work, 'link.yaml'));
  await commit(work, {}, 'exec bit and symlink');
  await push(work, url, ['main']);
  const { mirrors } = await newMirrors(t);
  const first = await mirrors.fetch({ url, ref: { branch: 'main' } });

  await chmod(join(work, 'bin', 'run.sh'), 0o644); // a mode change alone is a change
  const second = await commit(work, {
    'apps/app-03/config.yaml': 'index: changed\n',
    'apps/app-04/config.yaml': null,
    'apps/new/deep/config.yaml': 'index: new\n',
  });
  await push(work, url, ['main']);
  const artifact = await mirrors.fetch({ url, ref: { branch: 'main' } });
  assert.equal(artifact.commit, second);

  // Every file of the commit, with git's content and mode, and nothing else.
  const tracked = (await git(['ls-tree', '-r', '-z', second], { cwd: work })).split('\0').filter(Boolean);
  const written = (await readdir(artifact.dir, { recursive: true, withFileTypes: true }))
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(artifact.dir.length + 1))
    .sort();
  assert.deepEqual(written, tracked.map((l) => l.split('\t')[1]!).sort());
  for (const line of tracked) {
    const [meta, path] = line.split('\t') as [string, string];
    const mode = meta.split(' ')[0];
    const at = join(artifact.dir, path);
    if (mode === '120000') {
      assert.equal(await readlink(at), 'apps/app-00/config.yaml');
      continue;
    }
    assert.equal(await readFile(at, 'utf8'), await git(['show', `${second}:${path}`], { cwd: work }), path);
    const actual = (await lstat(at)).mode;
    assert.equal(actual & 0o222, 0, `${path} is read-only`);
    assert.equal(actual & 0o100, mode === '100755' ? 0o100 : 0, `${path} exec bit as in git`);
  }
  assert.equal(
    (await lstat(join(artifact.dir, 'apps', 'new', 'deep'))).mode & 0o222,
    0,
    'new folders read-only',
  );
  assert.equal((await lstat(artifact.dir)).mode & 0o222, 0);

  // Unchanged files are the previous tree's (one inode); changed ones are new; the old tree is intact.
  const inode = async (dir: string, path: string) => (await lstat(join(dir, path))).ino;
  assert.equal(
    await inode(artifact.dir, 'apps/app-10/config.yaml'),
    await inode(first.dir, 'apps/app-10/config.yaml'),
  );
  assert.notEqual(
    await inode(artifact.dir, 'apps/app-03/config.yaml'),
    await inode(first.dir, 'apps/app-03/config.yaml'),
  );
  assert.equal(await readFile(join(first.dir, 'apps/app-03/config.yaml'), 'utf8'), 'index: 3\n');
  assert.equal(await readFile(join(first.dir, 'apps/app-04/config.yaml'), 'utf8'), 'index: 4\n');
  assert.deepEqual(await readdir(join(mirrors.options.cacheDir, 'scratch')), [], 'no scratch files left');
  assert.deepEqual(
    (await readdir(join(mirrors.options.cacheDir, 'trees'))).filter((n) => n.startsWith('.')),
    [],
    'no half-written trees left',
  );
});

test('a tree nobody asked for in keepTreesMs is removed, the newest stay, and it is written again when asked for', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('sweep');
  await createBareRepo(http.root, name);
  const url = http.url(name);
  const work = await workTree(t);
  const commits: string[] = [];
  for (let i = 1; i <= 5; i++) commits.push(await commit(work, { 'config.yaml': `version: ${i}\n` }));
  await push(work, url, ['main']);
  let clock = 0;
  const { mirrors, cacheDir } = await newMirrors(t, { keepTreesMs: 1000, clock: () => clock });
  const [c1, c2, c3, c4, c5] = commits as [string, string, string, string, string];
  const trees = join(mirrors.options.cacheDir, 'trees');
  const present = async () => (await readdir(trees)).filter((n) => !n.startsWith('.')).sort();
  for (const c of [c1, c2, c3]) await mirrors.fetch({ url, ref: { commit: c } });
  assert.deepEqual(await present(), [c1, c2, c3].sort(), 'nothing is old yet');

  clock = 5000;
  assert.ok(await mirrors.localTree(c2), 'c2 is asked for now');
  await mirrors.fetch({ url, ref: { commit: c4 } }); // writes a tree, then sweeps
  await waitUntil('the tree of c1 to be removed', async () => !(await present()).includes(c1), {
    timeoutMs: 30_000,
  });
  assert.deepEqual(await present(), [c2, c3, c4].sort(), 'asked for lately (c2) or newest (c3, c4)');
  assert.equal(await mirrors.localTree(c1), undefined);
  const again = await mirrors.fetch({ url, ref: { commit: c1 } });
  assert.equal(await readFile(join(again.dir, 'config.yaml'), 'utf8'), 'version: 1\n');
  // c3 is no longer among the two newest, and nobody asked for it since it was written.
  await waitUntil('the tree of c3 to be removed', async () => !(await present()).includes(c3), {
    timeoutMs: 30_000,
  });
  assert.deepEqual(await present(), [c1, c2, c4].sort());

  // Another process on the same cache sees what this one asked for: the folder's time says it.
  clock = 10_000;
  assert.ok(await mirrors.localTree(c2), 'c2 is asked for now, by the first process');
  const { mirrors: other } = await newMirrors(t, { cacheDir, keepTreesMs: 1000, clock: () => clock });
  await other.fetch({ url, ref: { commit: c5 } });
  await waitUntil(
    'the trees nobody asked for lately to be removed',
    async () => !(await present()).some((c) => c === c1 || c === c4),
    { timeoutMs: 30_000 },
  );
  assert.deepEqual(await present(), [c2, c5].sort(), 'asked for by the first process (c2), newest here (c5)');
});
