// The source stage over SSH against the harness's sshd: a key and known_hosts lines from the
// caller, nothing from the machine's ssh configuration, the key file gone afterwards.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBareRepo } from '../harness/git-server.ts';
import { git, gitServers, gitSshServer, uniqueName } from '../harness/index.ts';
import { SourceError, type GitCredentials } from '../../src/source/index.ts';
import { run } from '../harness/processes.ts';
import { addFixture, commit, newMirrors, push, scratch, tag, workTree } from './helpers.ts';

async function sshRepo(t: Parameters<typeof workTree>[0]) {
  const { http } = await gitServers();
  const ssh = await gitSshServer();
  const path = await createBareRepo(http.root, uniqueName('ssh'));
  const credentials: GitCredentials = {
    kind: 'ssh',
    privateKey: await readFile(ssh.clientKey, 'utf8'),
    knownHosts: await readFile(ssh.knownHosts, 'utf8'),
  };
  const work = await workTree(t);
  return { ssh, path, url: ssh.url(path), credentials, work };
}

test('over SSH with a key, branch, tag, semver range and commit resolve to the right commit', async (t) => {
  const { ssh, url, credentials, work } = await sshRepo(t);
  await addFixture(work, 'app');
  const c1 = await commit(work, {}, 'import');
  await tag(work, 'v1.0.0', { annotated: true });
  const c2 = await commit(work, { 'base/configmap.yaml': 'kind: ConfigMap # 1.1.0\n' });
  await tag(work, 'v1.1.0');
  const c3 = await commit(work, { 'base/configmap.yaml': 'kind: ConfigMap # main\n' });
  await push(work, url, ['main', '--tags'], { env: ssh.gitEnv() });

  const { mirrors, cacheDir } = await newMirrors(t, { allowHttp: false });
  const cases: [Parameters<typeof mirrors.fetch>[0]['ref'], string, string][] = [
    [{ branch: 'main' }, 'refs/heads/main', c3],
    [{ tag: 'v1.0.0' }, 'refs/tags/v1.0.0', c1],
    [{ semver: '~1.0 || ^1.1' }, 'refs/tags/v1.1.0', c2],
    [{ commit: c2 }, c2, c2],
  ];
  for (const [ref, expectedRef, expectedCommit] of cases) {
    const artifact = await mirrors.fetch({ url, credentials, ref });
    assert.deepEqual([artifact.url, artifact.ref, artifact.commit], [url, expectedRef, expectedCommit]);
    const shown = await git(['show', `${expectedCommit}:base/configmap.yaml`], { cwd: work });
    assert.equal(await readFile(join(artifact.dir, 'base', 'configmap.yaml'), 'utf8'), shown);
  }
  assert.deepEqual(await readdir(join(cacheDir, 'scratch')), [], 'the key file was removed');
});

test('SSH refuses an untrusted host key, an unknown key, no key, and a password', async (t) => {
  const { ssh, url, credentials, work } = await sshRepo(t);
  await commit(work, { 'a.yaml': 'a: 1\n' });
  await push(work, url, ['main'], { env: ssh.gitEnv() });
  const { mirrors, cacheDir } = await newMirrors(t);

  const otherHost = `[127.0.0.1]:${ssh.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0ni9rQbZ0Xk1kq4lPqnrFm7sEuKUnGdgdKb3RNGrY\n`;
  await assert.rejects(
    mirrors.fetch({ url, credentials: { ...credentials, knownHosts: otherHost }, ref: { branch: 'main' } }),
    (e: unknown) => {
      assert.ok(e instanceof SourceError, String(e));
      assert.equal(e.reason, 'AuthFailed');
      assert.ok(e.message.startsWith(`${url}: git ls-remote failed: `), e.message);
      assert.match(e.message, /Host key verification failed|host key .* changed|REMOTE HOST IDENTIFICATION/i);
      assert.ok(!e.message.includes('PRIVATE KEY'));
      return true;
    },
  );
  // A key the server does not know.
  const dir = await scratch(t);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
  const stranger = await readFile(join(dir, 'stranger'), 'utf8');
  await assert.rejects(
    mirrors.fetch({ url, credentials: { ...credentials, privateKey: stranger }, ref: { branch: 'main' } }),
    (e: unknown) => {
      assert.ok(e instanceof SourceError && e.reason === 'AuthFailed', String(e));
      assert.match(e.message, /: git ls-remote failed: .*Permission denied \(publickey\)\.$/);
      return true;
    },
  );
  // No credentials: the machine's known_hosts and ssh configuration are not used either.
  await assert.rejects(mirrors.fetch({ url, ref: { branch: 'main' } }), (e: unknown) => {
    assert.ok(e instanceof SourceError && e.reason === 'AuthFailed', String(e));
    assert.match(e.message, /Host key verification failed\.$/);
    return true;
  });
  await assert.rejects(
    mirrors.fetch({
      url,
      credentials: { kind: 'basic', username: 'u', password: 'secret-pw' },
      ref: { branch: 'main' },
    }),
    /: basic-auth credentials need an http\(s\) URL, not ssh$/,
  );
  assert.deepEqual(
    await readdir(join(cacheDir, 'mirrors')),
    [],
    'no mirror for a repository that never answered',
  );
  assert.deepEqual(await readdir(join(cacheDir, 'scratch')), []);
});
