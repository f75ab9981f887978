import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  gitConfigArgs,
  gitEnvironment,
  parseObjectsSize,
  parseTreeEntries,
  shellQuote,
  sshCommand,
  treeBytes,
} from './git.ts';

test('git gets no user or system configuration, no prompts, and only the allowed transports', () => {
  const env = gitEnvironment({
    home: '/cache/home',
    allowed: ['https', 'ssh'],
    inherited: {
      PATH: '/usr/bin',
      HTTPS_PROXY: 'http://proxy:3128',
      HOME: '/root',
      GIT_DIR: '/elsewhere',
      GIT_SSH_COMMAND: 'ssh -o ProxyCommand=evil',
      SSH_AUTH_SOCK: '/tmp/agent',
      GIT_ASKPASS: '/usr/bin/ksshaskpass',
    },
    connectTimeoutS: 30,
  });
  assert.equal(env.PATH, '/usr/bin');
  assert.equal(env.HTTPS_PROXY, 'http://proxy:3128');
  assert.equal(env.HOME, '/cache/home');
  assert.equal(env.GIT_CONFIG_NOSYSTEM, '1');
  assert.equal(env.GIT_CONFIG_GLOBAL, '/dev/null');
  assert.equal(env.GIT_TERMINAL_PROMPT, '0');
  assert.equal(env.GIT_ALLOW_PROTOCOL, 'https:ssh');
  assert.equal(env.GIT_DIR, undefined);
  assert.equal(env.SSH_AUTH_SOCK, undefined);
  assert.equal(env.GIT_ASKPASS, undefined);
  assert.doesNotMatch(env.GIT_SSH_COMMAND ?? '', /ProxyCommand/);
  assert.match(
    env.GIT_SSH_COMMAND ?? '',
    /UserKnownHostsFile='\/dev\/null'.*StrictHostKeyChecking=yes.*BatchMode=yes/,
  );
});

test('file:// and ext:: are refused by configuration too, and submodules are never followed', () => {
  const pairs = (args: string[]) => args.filter((_, i) => i % 2 === 1);
  assert.ok(pairs(gitConfigArgs(false)).includes('protocol.file.allow=never'));
  assert.ok(pairs(gitConfigArgs(true)).includes('protocol.file.allow=always'));
  assert.ok(pairs(gitConfigArgs(false)).includes('protocol.ext.allow=never'));
  assert.ok(pairs(gitConfigArgs(false)).includes('submodule.recurse=false'));
  assert.ok(pairs(gitConfigArgs(false)).includes('fetch.recurseSubmodules=false'));
  assert.ok(gitConfigArgs(false).every((arg, i) => (i % 2 === 0 ? arg === '-c' : true)));
});

test('the ssh command names the key and known_hosts files, shell-quoted', () => {
  const command = sshCommand({ keyFile: "/c/it's/key", knownHostsFile: '/c/kh', connectTimeoutS: 5 });
  assert.match(command, /-i '\/c\/it'\\''s\/key'/);
  assert.match(command, /-o IdentitiesOnly=yes/);
  assert.match(command, /-o UserKnownHostsFile='\/c\/kh'/);
  assert.match(command, /-o StrictHostKeyChecking=yes/);
  assert.match(command, /-o ConnectTimeout=5/);
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});

test('object and tree sizes are read from count-objects and ls-tree output', () => {
  const counted =
    'count: 3\nsize: 12\nin-pack: 40\npacks: 1\nsize-pack: 100\nprune-packable: 0\ngarbage: 0\nsize-garbage: 0\n';
  assert.equal(parseObjectsSize(counted), 112 * 1024);
  assert.throws(() => parseObjectsSize('count: 3\n'), /no size/);
  const tree = [
    '100644 blob 45b983be36b73c0788dc9cbcb76cbb80fc7bb057       3\ta',
    '100755 blob 587be6b4c3f93f93c489c0111bba5596147a26cb    2000\td/b c',
    '160000 commit 587be6b4c3f93f93c489c0111bba5596147a26cb       -\tsub',
    '',
  ].join('\0');
  assert.equal(treeBytes(parseTreeEntries(tree)), 2003);
  assert.deepEqual(parseTreeEntries(`${tree}100644 blob ${'0'.repeat(40)}       1\tline\nbreak\0`), [
    { mode: '100644', type: 'blob', size: 3, path: 'a' },
    { mode: '100755', type: 'blob', size: 2000, path: 'd/b c' },
    { mode: '160000', type: 'commit', size: 0, path: 'sub' },
    { mode: '100644', type: 'blob', size: 1, path: 'line\nbreak' },
  ]);
  assert.throws(() => parseTreeEntries('garbage\0'), /unexpected ls-tree entry/);
});
