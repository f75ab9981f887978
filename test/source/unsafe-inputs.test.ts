// Hostile and broken inputs: each is refused with an error that names the URL and what is wrong,
// runs nothing it smuggles in, leaks no secret, and leaves nothing in the cache.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { GitHttpServer, createBareRepo } from '../harness/git-server.ts';
import { gitServers, uniqueName } from '../harness/index.ts';
import { freePort } from '../harness/processes.ts';
import { gitConfigArgs, gitEnvironment, runGit } from '../../src/source/git.ts';
import {
  SourceError,
  type GitRef,
  type GitSourceSpec,
  type SourceErrorReason,
} from '../../src/source/index.ts';
import { commit, listing, markerPath, newMirrors, push, scratch, workTree } from './helpers.ts';

/** Asserts a SourceError with this reason whose message starts with `prefix` and matches `detail`. */
function refused(reason: SourceErrorReason, prefix: string, detail: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SourceError, `expected a SourceError, got ${inspect(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.ok(e.message.startsWith(`${prefix}: `), `"${e.message}" starts with "${prefix}: "`);
    assert.match(e.message, detail);
    return true;
  };
}

async function repoWithMain(t: Parameters<typeof workTree>[0]): Promise<{ url: string; sha: string }> {
  const { http } = await gitServers();
  const name = uniqueName('unsafe');
  await createBareRepo(http.root, name);
  const work = await workTree(t);
  const sha = await commit(work, { 'a.yaml': 'a: 1\n' });
  await push(work, http.url(name), ['main']);
  return { url: http.url(name), sha };
}

test('option, helper and scheme injection in URLs and refs is refused before git runs', async (t) => {
  const { url } = await repoWithMain(t);
  const { mirrors, cacheDir } = await newMirrors(t);
  const ok = await mirrors.fetch({ url, ref: { branch: 'main' } });
  const before = await listing(cacheDir);

  const markers = {
    uploadPackUrl: markerPath('x'),
    uploadPackRef: markerPath('x'),
    ext: markerPath('pwned'),
    proxy: markerPath('pwn'),
  };
  const cases: [GitSourceSpec, SourceErrorReason, string, RegExp][] = [
    [
      { url: `--upload-pack=touch ${markers.uploadPackUrl}`, ref: { branch: 'main' } },
      'InvalidUrl',
      `--upload-pack=touch ${markers.uploadPackUrl}`,
      /invalid repository URL: it starts with "-"$/,
    ],
    [
      { url, ref: { branch: `--upload-pack=touch ${markers.uploadPackRef}` } },
      'InvalidRef',
      url,
      /branch "--upload-pack=touch .*" is not a valid branch name: it starts with "-"$/,
    ],
    [
      { url: `ext::sh -c touch% ${markers.ext}`, ref: { branch: 'main' } },
      'InvalidUrl',
      `ext::sh -c touch% ${markers.ext}`,
      /remote helper "ext::" is not allowed$/,
    ],
    [
      { url: 'file:///etc', ref: { branch: 'main' } },
      'InvalidUrl',
      'file:///etc',
      /file:\/\/ is not enabled \(allowFile\)$/,
    ],
    [
      { url: `ssh://-oProxyCommand=touch%20${markers.proxy}/x`, ref: { branch: 'main' } },
      'InvalidUrl',
      `ssh://-oProxyCommand=touch%20${markers.proxy}/x`,
      /host "-oProxyCommand=touch%20.*" starts with "-"$/,
    ],
    [
      { url: 'git://127.0.0.1/r.git', ref: { branch: 'main' } },
      'InvalidUrl',
      'git://127.0.0.1/r.git',
      /scheme "git" is not allowed/,
    ],
    [
      { url, ref: { name: 'refs/heads/../../x' } },
      'InvalidRef',
      url,
      /ref "refs\/heads\/..\/..\/x" is not a valid ref name: it contains "\.\."$/,
    ],
    [
      { url, ref: { branch: 'HEAD~999' } },
      'InvalidRef',
      url,
      /branch "HEAD~999" is not a valid branch name: it contains "~"$/,
    ],
    [
      { url, ref: { commit: 'HEAD~999' } },
      'InvalidRef',
      url,
      /commit "HEAD~999" is not a full 40-character lowercase hex SHA$/,
    ],
    [
      { url, ref: { tag: 'v1:x' } },
      'InvalidRef',
      url,
      /tag "v1:x" is not a valid tag name: it contains ":"$/,
    ],
    [
      { url, ref: { semver: '>=1 <one' } },
      'InvalidRef',
      url,
      /invalid semver range: ">=1 <one": "one" is not a version$/,
    ],
    [{ url, ref: { branch: 'main', tag: 'v1' } as unknown as GitRef }, 'InvalidRef', url, /exactly one of/],
  ];
  for (const [spec, reason, prefix, detail] of cases) {
    await assert.rejects(mirrors.fetch(spec), refused(reason, prefix, detail), JSON.stringify(spec));
  }
  // The http test server is enabled in newMirrors; with the default options it is not.
  const strict = await newMirrors(t, { allowHttp: false });
  await assert.rejects(
    strict.mirrors.fetch({ url, ref: { branch: 'main' } }),
    refused('InvalidUrl', url, /http:\/\/ is not enabled \(allowHttp\); use https:\/\/$/),
  );

  for (const marker of Object.values(markers)) assert.ok(!existsSync(marker), `${marker} was not created`);
  assert.deepEqual(await listing(cacheDir), before, 'nothing was added to the cache');
  assert.equal(await readFile(join(ok.dir, 'a.yaml'), 'utf8'), 'a: 1\n');
});

test('file:// works once enabled, so the refusal above is the policy and not a broken URL', async (t) => {
  const { http } = await gitServers();
  const name = uniqueName('local');
  const path = await createBareRepo(http.root, name);
  const work = await workTree(t);
  const sha = await commit(work, { 'a.yaml': 'a: 1\n' });
  await push(work, path, ['main']);
  const { mirrors } = await newMirrors(t, { allowFile: true });
  assert.equal((await mirrors.fetch({ url: `file://${path}`, ref: { branch: 'main' } })).commit, sha);
});

test('behind the URL check, git itself refuses ext::, file:// and option-like hosts in our environment', async (t) => {
  const home = await scratch(t);
  const env = gitEnvironment({ home, allowed: ['https', 'ssh'], inherited: process.env, connectTimeoutS: 5 });
  const ext = markerPath('pwned');
  const proxy = markerPath('pwn');
  const { http } = await gitServers();
  const path = await createBareRepo(http.root, uniqueName('direct'));
  for (const target of [
    `ext::sh -c touch% ${ext}`,
    `file://${path}`,
    `ssh://-oProxyCommand=touch%20${proxy}/x`,
  ]) {
    await assert.rejects(
      runGit({
        git: 'git',
        args: [...gitConfigArgs(false), 'ls-remote', '--', target],
        cwd: home,
        env,
        timeoutMs: 10_000,
        secrets: [],
      }),
      /transport '(ext|file)' not allowed|strange hostname/,
      target,
    );
  }
  assert.ok(!existsSync(ext) && !existsSync(proxy));
});

test('a commit SHA that does not exist is an error, with no fallback to another commit', async (t) => {
  const { url } = await repoWithMain(t);
  const { mirrors, cacheDir } = await newMirrors(t);
  const missing = '0123456789abcdef0123456789abcdef01234567';
  await assert.rejects(
    mirrors.fetch({ url, ref: { commit: missing } }),
    refused('RefNotFound', url, new RegExp(`commit "${missing}" not found in any branch or tag$`)),
  );
  await assert.rejects(
    mirrors.fetch({ url, ref: { tag: 'v9' } }),
    refused('RefNotFound', url, /tag "v9" not found$/),
  );
  await assert.rejects(
    mirrors.fetch({ url, ref: { semver: '>=1' } }),
    refused('RefNotFound', url, /no tag matches semver range ">=1" \(none of the 0 tags is a version\)$/),
  );
  assert.deepEqual(await listing(join(cacheDir, 'trees')), []);
  assert.deepEqual(await listing(join(cacheDir, 'scratch')), []);
});

test('a wrong password is refused, and appears in no message, cause or process command line', async (t) => {
  const root = await scratch(t);
  const password = `right-${uniqueName('pw')}`;
  const server = await GitHttpServer.start({ root, users: { deploy: password } });
  t.after(() => server.stop());
  await createBareRepo(root, 'private');
  const work = await workTree(t);
  await commit(work, { 'a.yaml': 'a: 1\n' });
  await push(work, server.url('private', { user: 'deploy', password }), ['main']);
  const url = server.url('private');
  const { mirrors, cacheDir } = await newMirrors(t);

  const wrong = `wrong-${uniqueName('pw')}`;
  const attempts: GitSourceSpec[] = [
    { url, credentials: { kind: 'basic', username: 'deploy', password: wrong }, ref: { branch: 'main' } },
    { url: server.url('private', { user: 'deploy', password: wrong }), ref: { branch: 'main' } },
  ];
  for (const spec of attempts) {
    const error = await mirrors.fetch(spec).then(
      () => assert.fail('a wrong password was accepted'),
      (e: unknown) => e,
    );
    assert.ok(refused('AuthFailed', url, /git ls-remote failed: .*Authentication failed/)(error));
    const everything = inspect(error, { depth: 10, showHidden: true });
    assert.ok(!everything.includes(wrong), everything);
    assert.ok(!everything.includes(encodeURIComponent(wrong)));
  }
  assert.deepEqual(
    await readdir(join(cacheDir, 'mirrors')),
    [],
    'no mirror for a repository that refused us',
  );
});

test('credentials never appear on a command line while git runs', async (t) => {
  // A server that accepts connections and never answers keeps git (and its helpers) running.
  const hold = await blackHole(t);
  const secret = `pw-${uniqueName('cmdline')}`;
  const { mirrors } = await newMirrors(t, { commandTimeoutMs: 2000 });
  const specs: GitSourceSpec[] = [
    {
      url: `http://127.0.0.1:${hold.port}/explicit.git`,
      credentials: { kind: 'basic', username: 'deploy', password: secret },
      ref: { branch: 'main' },
    },
    { url: `http://deploy:${secret}@127.0.0.1:${hold.port}/embedded.git`, ref: { branch: 'main' } },
  ];
  const failed = Promise.all(
    specs.map((spec) =>
      mirrors.fetch(spec).then(
        () => undefined,
        (e: unknown) => e,
      ),
    ),
  );
  await Promise.race([
    hold.connected(2),
    failed.then(() => assert.fail('git gave up before both connections were made')),
  ]);
  let gitProcesses = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`127.0.0.1:${hold.port}`)) gitProcesses++;
    assert.ok(!cmdline.includes(secret), `process ${pid} shows the password: ${cmdline.replace(/\0/g, ' ')}`);
  }
  assert.ok(gitProcesses >= 2, 'git was running for both calls while the command lines were read');
  for (const error of await failed) {
    assert.ok(error instanceof SourceError && error.reason === 'Timeout', inspect(error));
    assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(secret));
  }
});

test('an unreachable port fails fast, and a server that never answers fails at the time limit', async (t) => {
  const { mirrors, cacheDir } = await newMirrors(t, { commandTimeoutMs: 1500 });
  const closed = `http://127.0.0.1:${await freePort()}/r.git`;
  let started = Date.now();
  await assert.rejects(
    mirrors.fetch({ url: closed, ref: { branch: 'main' } }),
    refused('Unreachable', closed, /git ls-remote failed: .*(Failed to connect|Couldn't connect)/),
  );
  assert.ok(Date.now() - started < 1500, `refused connection took ${Date.now() - started} ms`);

  const hold = await blackHole(t);
  const silent = `http://127.0.0.1:${hold.port}/r.git`;
  started = Date.now();
  await assert.rejects(
    mirrors.fetch({ url: silent, ref: { branch: 'main' } }),
    refused('Timeout', silent, /git ls-remote timed out after 1\.5 s$/),
  );
  const took = Date.now() - started;
  assert.ok(took >= 1400 && took < 5000, `timed out after ${took} ms`);
  assert.deepEqual(await readdir(join(cacheDir, 'mirrors')), []);
});

/** A TCP server that accepts connections and never writes a byte. */
async function blackHole(
  t: Parameters<typeof workTree>[0],
): Promise<{ port: number; connected: (count: number) => Promise<void> }> {
  const sockets = new Set<Socket>();
  const waiting: { count: number; resolve: () => void }[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    for (const w of waiting) if (sockets.size >= w.count) w.resolve();
  });
  const connected = (count: number) =>
    new Promise<void>((resolve) => {
      if (sockets.size >= count) resolve();
      else waiting.push({ count, resolve });
    });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connected };
}
