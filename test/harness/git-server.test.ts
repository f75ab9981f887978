// The git test servers accept pushes and serve fetches over smart HTTP and SSH, as a hosted
// Git service would.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GitHttpServer, createBareRepo, git, initAndCommit } from './git-server.ts';
import { gitRepoFrom, gitServers, gitSshServer, uniqueName } from './index.ts';
import { run } from './processes.ts';

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A working copy with one commit touching `file`, returning its SHA. */
async function commitIn(dir: string, file: string, content: string): Promise<string> {
  await writeFile(join(dir, file), content);
  await initAndCommit(dir, `add ${file}`);
  return (await git(['rev-parse', 'HEAD'], { cwd: dir })).trim();
}

test('a commit pushed over HTTP is seen by git ls-remote', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('http');
  await createBareRepo(http.root, name);
  const work = await scratch(t);
  const sha = await commitIn(work, 'app.yaml', 'kind: ConfigMap\n');
  await git(['push', '--quiet', http.url(name), 'HEAD:refs/heads/main'], { cwd: work });
  const refs = await git(['ls-remote', http.url(name)]);
  assert.match(refs, new RegExp(`^${sha}\\trefs/heads/main$`, 'm'));
});

test('basic auth: no credentials get 401, wrong ones are refused, right ones push', async (t) => {
  const root = await scratch(t);
  const server = await GitHttpServer.start({ root, users: { deploy: 's3cret' } });
  t.after(() => server.stop());
  await createBareRepo(root, 'private');
  const anonymous = await fetch(`${server.url('private')}/info/refs?service=git-upload-pack`);
  assert.equal(anonymous.status, 401);
  await assert.rejects(
    git(['ls-remote', server.url('private', { user: 'deploy', password: 'wrong' })]),
    /Authentication failed|401/,
  );

  const work = await scratch(t);
  const sha = await commitIn(work, 'README', 'private\n');
  const url = server.url('private', { user: 'deploy', password: 's3cret' });
  await git(['push', '--quiet', url, 'HEAD:refs/heads/main'], { cwd: work });
  assert.match(await git(['ls-remote', url, 'refs/heads/main']), new RegExp(`^${sha}\\t`));
});

test('a commit pushed over SSH is seen by git ls-remote, over SSH and over HTTP', async (t) => {
  const { http } = await gitServers();
  const ssh = await gitSshServer();
  const name = uniqueName('ssh');
  const path = await createBareRepo(http.root, name);
  const work = await scratch(t);
  const sha = await commitIn(work, 'app.yaml', 'kind: Secret\n');
  await git(['push', '--quiet', ssh.url(path), 'HEAD:refs/heads/main'], { cwd: work, env: ssh.gitEnv() });
  assert.match(
    await git(['ls-remote', ssh.url(path)], { env: ssh.gitEnv() }),
    new RegExp(`^${sha}\\trefs/heads/main$`, 'm'),
  );
  assert.match(await git(['ls-remote', http.url(name)]), new RegExp(`^${sha}\\trefs/heads/main$`, 'm'));
});

test('SSH refuses a key it does not know', async (t) => {
  const { http } = await gitServers();
  const ssh = await gitSshServer();
  const path = await createBareRepo(http.root, uniqueName('ssh-denied'));
  const dir = await scratch(t);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
  const env = {
    GIT_SSH_COMMAND: `ssh -i ${join(dir, 'stranger')} -o IdentitiesOnly=yes -o UserKnownHostsFile=${ssh.knownHosts} -o BatchMode=yes`,
  };
  await assert.rejects(git(['ls-remote', ssh.url(path)], { env }), /Permission denied/);
});

test('gitRepoFrom keeps a whole folder tree, so relative paths between folders still resolve', async (t) => {
  const tree = await scratch(t);
  await mkdir(join(tree, 'base'), { recursive: true });
  await mkdir(join(tree, 'overlays', 'dev'), { recursive: true });
  await writeFile(join(tree, 'base', 'kustomization.yaml'), 'resources: [cm.yaml]\n');
  await writeFile(join(tree, 'base', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
  await writeFile(join(tree, 'overlays', 'dev', 'kustomization.yaml'), 'resources: [../../base]\n');
  const repo = await gitRepoFrom(tree);
  const clone = await scratch(t);
  await git(['clone', '--quiet', repo.httpUrl, clone]);
  assert.equal((await git(['rev-parse', 'HEAD'], { cwd: clone })).trim(), repo.commit);
  assert.equal(
    await readFile(join(clone, 'overlays', 'dev', 'kustomization.yaml'), 'utf8'),
    'resources: [../../base]\n',
  );
  const built = await run('kustomize', ['build', join(clone, 'overlays', 'dev')]);
  assert.match(built, /kind: ConfigMap/);
});
