import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseForEachRef,
  parseGitRef,
  parseLsRemote,
  refNameProblem,
  RefError,
  resolveRef,
  type RemoteRef,
} from './refs.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const T = '7'.repeat(40);

test('ref names follow git check-ref-format, and may not start with "-"', () => {
  for (const good of ['main', 'release/1.x', 'feature/a-b_c', 'v1.2.3', 'refs/heads/main', 'a.b', 'ü']) {
    assert.equal(refNameProblem(good), undefined, good);
  }
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['-x', /starts with "-"/],
    ['--upload-pack=touch /tmp/x', /starts with "-"/],
    ['refs/heads/../../x', /".."/],
    ['a..b', /".."/],
    ['HEAD~999', /"~"/],
    ['main^', /"\^"/],
    ['a:b', /":"/],
    ['a b', /" "/],
    ['a\tb', /"\\u0009"/],
    ['a\u0000b', /"\\u0000"/],
    ['a\u007fb', /"\\u007f"/],
    ['a?', /"\?"/],
    ['a*', /"\*"/],
    ['a[1]', /"\["/],
    ['a\\b', /"\\\\"/],
    ['main@{1}', /"@\{"/],
    ['@', /is "@"/],
    ['/main', /empty path component/],
    ['main/', /empty path component/],
    ['a//b', /empty path component/],
    ['main.', /ends with "\."/],
    ['.hidden', /starting with "\."/],
    ['a/.b', /starting with "\."/],
    ['x.lock', /ending with "\.lock"/],
    ['x.lock/y', /ending with "\.lock"/],
    ['x'.repeat(1025), /longer than 1024/],
  ];
  for (const [name, problem] of bad)
    assert.match(refNameProblem(name) ?? 'accepted', problem, JSON.stringify(name));
});

test('a GitRef sets exactly one known field, each validated for its kind', () => {
  assert.deepEqual(parseGitRef({ branch: 'main' }), { kind: 'branch', value: 'main' });
  assert.deepEqual(parseGitRef({ tag: 'v1.0.0' }), { kind: 'tag', value: 'v1.0.0' });
  assert.deepEqual(parseGitRef({ name: 'refs/pull/7/head' }), { kind: 'name', value: 'refs/pull/7/head' });
  assert.deepEqual(parseGitRef({ commit: A }), { kind: 'commit', value: A });
  assert.equal(parseGitRef({ semver: '~1.4' }).kind, 'semver');
  assert.equal(parseGitRef({ branch: 'main', tag: undefined }).kind, 'branch');

  const refused: [unknown, RegExp][] = [
    [null, /must be an object/],
    ['main', /must be an object/],
    [{}, /exactly one .* \(got 0\)/],
    [{ branch: 'a', tag: 'b' }, /exactly one .* \(got 2\)/],
    [{ sha: A }, /unknown ref field "sha"/],
    [{ branch: 7 }, /must be a string/],
    [
      { branch: '--upload-pack=touch /tmp/x' },
      /branch "--upload-pack=touch \/tmp\/x" is not a valid branch name: it starts with "-"/,
    ],
    [{ branch: 'HEAD~999' }, /branch "HEAD~999" is not a valid branch name: it contains "~"/],
    [{ branch: 'HEAD' }, /is "HEAD"/],
    [{ branch: 'refs/heads/main' }, /give the short name/],
    [{ tag: 'v1..2' }, /tag "v1..2" is not a valid tag name/],
    [
      { name: 'refs/heads/../../x' },
      /ref "refs\/heads\/..\/..\/x" is not a valid ref name: it contains "\.\."/,
    ],
    [{ name: 'main' }, /must start with "refs\/"/],
    [{ commit: 'HEAD~999' }, /not a full 40-character lowercase hex SHA/],
    [{ commit: A.slice(0, 12) }, /not a full 40-character/],
    [{ commit: A.toUpperCase() }, /not a full 40-character/],
    [{ commit: `${A}\n` }, /not a full 40-character/],
    [{ semver: '' }, /invalid semver range: range is empty/],
    [{ semver: 'latest' }, /invalid semver range/],
  ];
  for (const [ref, message] of refused) {
    assert.throws(
      () => parseGitRef(ref),
      (e: unknown) => e instanceof RefError && message.test(e.message),
      JSON.stringify(ref),
    );
  }
});

const lsRemote = [
  `${A}\tHEAD`,
  `${A}\trefs/heads/main`,
  `${B}\trefs/heads/release/1.x`,
  `${T}\trefs/tags/v1.4.3`,
  `${C}\trefs/tags/v1.4.3^{}`,
  `${B}\trefs/tags/v1.5.0`,
  `${A}\trefs/tags/v2.0.0-rc.1`,
  `${C}\trefs/pull/7/head`,
  '',
].join('\n');

test('ls-remote output: peeled tag lines attach to their tag', () => {
  const refs = parseLsRemote(lsRemote);
  assert.deepEqual(
    refs.find((r) => r.name === 'refs/tags/v1.4.3'),
    { name: 'refs/tags/v1.4.3', oid: T, peeled: C },
  );
  assert.equal(refs.length, 7);
  assert.ok(!refs.some((r) => r.name.endsWith('^{}')));
  assert.throws(() => parseLsRemote('not a line\n'), /unexpected ls-remote line/);
  assert.throws(() => parseLsRemote(`${A.slice(1)}\trefs/heads/x\n`), /unexpected ls-remote line/);
});

test('for-each-ref output reads the same way as ls-remote output', () => {
  const refs = parseForEachRef(`${A}\t\trefs/heads/main\n${T}\t${C}\trefs/tags/v1.4.3\n`);
  assert.deepEqual(refs, [
    { name: 'refs/heads/main', oid: A },
    { name: 'refs/tags/v1.4.3', oid: T, peeled: C },
  ]);
  assert.throws(() => parseForEachRef(`${A}\tnope\trefs/heads/x\n`), /unexpected for-each-ref line/);
});

test('resolution: branch, tag (annotated tags give their commit), semver, full name, commit', () => {
  const refs = parseLsRemote(lsRemote);
  assert.deepEqual(resolveRef(refs, parseGitRef({ branch: 'main' })), { ref: 'refs/heads/main', commit: A });
  assert.deepEqual(resolveRef(refs, parseGitRef({ branch: 'release/1.x' })), {
    ref: 'refs/heads/release/1.x',
    commit: B,
  });
  assert.deepEqual(resolveRef(refs, parseGitRef({ tag: 'v1.4.3' })), { ref: 'refs/tags/v1.4.3', commit: C });
  assert.deepEqual(resolveRef(refs, parseGitRef({ semver: '~1.4' })), { ref: 'refs/tags/v1.4.3', commit: C });
  assert.deepEqual(resolveRef(refs, parseGitRef({ semver: '>=1.2.0 <2' })), {
    ref: 'refs/tags/v1.5.0',
    commit: B,
  });
  assert.deepEqual(resolveRef(refs, parseGitRef({ semver: '1.x' })), { ref: 'refs/tags/v1.5.0', commit: B });
  assert.deepEqual(resolveRef(refs, parseGitRef({ name: 'refs/pull/7/head' })), {
    ref: 'refs/pull/7/head',
    commit: C,
  });
  assert.deepEqual(resolveRef(refs, parseGitRef({ commit: B })), { ref: B, commit: B });
});

test('a branch is not found by a tag of the same name, nor by a suffix match', () => {
  const refs: RemoteRef[] = [
    { name: 'refs/tags/main', oid: A },
    { name: 'refs/heads/x/main', oid: B },
  ];
  assert.throws(
    () => resolveRef(refs, parseGitRef({ branch: 'main' })),
    (e: unknown) => e instanceof RefError && e.notFound && e.message === 'branch "main" not found',
  );
});

test('no matching version names the range and the highest version tags seen', () => {
  const refs = parseLsRemote(lsRemote);
  assert.throws(
    () => resolveRef(refs, parseGitRef({ semver: '>=3' })),
    (e: unknown) =>
      e instanceof RefError &&
      e.notFound &&
      e.message === 'no tag matches semver range ">=3" (version tags: v1.4.3, v1.5.0, v2.0.0-rc.1)',
  );
  assert.throws(
    () => resolveRef([{ name: 'refs/tags/latest', oid: A }], parseGitRef({ semver: '*' })),
    /none of the 1 tags is a version/,
  );
});
