import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareVersions,
  maxSatisfying,
  parseRange,
  parseVersion,
  RangeSyntaxError,
  satisfies,
} from './semver.ts';

test('versions: v prefix, prerelease and build are read; partial or padded numbers are not versions', () => {
  assert.deepEqual(parseVersion('v1.2.3-rc.1+build.5'), {
    major: 1,
    minor: 2,
    patch: 3,
    prerelease: ['rc', 1],
  });
  assert.deepEqual(parseVersion('0.0.0'), { major: 0, minor: 0, patch: 0, prerelease: [] });
  for (const notVersion of ['1.2', 'v1', '01.2.3', '1.2.3.4', 'release-1.2.3', '1.2.3-', '1.2.3-01', '']) {
    assert.equal(parseVersion(notVersion), undefined, notVersion);
  }
});

test('precedence follows semver 2.0: prereleases below the release, numeric identifiers below names', () => {
  const ordered = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '2.0.0',
    '10.0.0',
  ];
  for (let i = 1; i < ordered.length; i++) {
    const lower = parseVersion(ordered[i - 1]!)!;
    const higher = parseVersion(ordered[i]!)!;
    assert.ok(compareVersions(lower, higher) < 0, `${ordered[i - 1]} < ${ordered[i]}`);
    assert.ok(compareVersions(higher, lower) > 0, `${ordered[i]} > ${ordered[i - 1]}`);
  }
  assert.equal(compareVersions(parseVersion('1.0.0+a')!, parseVersion('v1.0.0+b')!), 0);
});

// [range, versions that satisfy it, versions that do not]
const table: [string, string[], string[]][] = [
  ['>=1.2.0 <2', ['1.2.0', '1.9.9'], ['1.1.9', '2.0.0', '2.0.0-rc.1', '1.5.0-beta']],
  ['>= 1.2, < 2', ['1.2.0', '1.9.0'], ['1.1.0', '2.0.0']],
  ['~1.4', ['1.4.0', '1.4.9'], ['1.3.9', '1.5.0']],
  ['~1.4.2', ['1.4.2', '1.4.7'], ['1.4.1', '1.5.0']],
  ['~1', ['1.0.0', '1.9.0'], ['2.0.0', '0.9.0']],
  ['1.x', ['1.0.0', '1.99.3'], ['0.9.9', '2.0.0']],
  ['1.2.*', ['1.2.0', '1.2.8'], ['1.3.0']],
  ['1', ['1.0.0', '1.5.5'], ['2.0.0']],
  ['*', ['0.0.1', '9.9.9'], ['1.0.0-rc.1']],
  ['^1.2.3', ['1.2.3', '1.9.0'], ['1.2.2', '2.0.0']],
  ['^0.2.3', ['0.2.3', '0.2.9'], ['0.3.0', '0.2.2']],
  ['^0.0.3', ['0.0.3'], ['0.0.4', '0.0.2']],
  ['^0.x', ['0.0.1', '0.9.9'], ['1.0.0']],
  ['>1.2', ['1.3.0'], ['1.2.9']],
  ['>1.2.3', ['1.2.4'], ['1.2.3']],
  ['<1.2', ['1.1.9'], ['1.2.0', '1.2.0-rc.1']],
  ['<=1.2', ['1.2.9'], ['1.3.0']],
  ['=1.2.3', ['1.2.3', 'v1.2.3'], ['1.2.4']],
  ['1.2.3', ['1.2.3'], ['1.2.4']],
  ['1.2 - 1.4', ['1.2.0', '1.4.9'], ['1.1.9', '1.5.0']],
  ['1.2.3 - 2.3.4', ['1.2.3', '2.3.4'], ['2.3.5']],
  ['<1 || >=3.1', ['0.9.0', '3.1.0'], ['1.0.0', '3.0.9']],
  [
    '>=1.2.3-beta.2 <1.3',
    ['1.2.3-beta.2', '1.2.3-beta.10', '1.2.3', '1.2.9'],
    ['1.2.3-beta.1', '1.2.4-beta.3'],
  ],
  ['1.2.3-rc.1', ['1.2.3-rc.1'], ['1.2.3', '1.2.3-rc.2']],
  ['>5 <3', [], ['4.0.0', '6.0.0', '2.0.0']],
];

for (const [range, yes, no] of table) {
  test(`range "${range}"`, () => {
    const parsed = parseRange(range);
    for (const version of yes)
      assert.ok(satisfies(parseVersion(version)!, parsed), `${version} satisfies ${range}`);
    for (const version of no)
      assert.ok(!satisfies(parseVersion(version)!, parsed), `${version} fails ${range}`);
  });
}

test('malformed ranges are refused, naming the part that is wrong', () => {
  for (const bad of ['>=', 'latest', '1.2.3.4', '>=1.0.0 <banana', '~>', '1.2.3 -', 'v1..2']) {
    assert.throws(() => parseRange(bad), RangeSyntaxError, bad);
  }
  assert.throws(() => parseRange('>=1 <banana'), /"banana" is not a version/);
});

test('maxSatisfying picks the highest matching tag and ignores non-versions and prereleases', () => {
  const tags = ['v1.2.0', 'v1.4.3', 'v1.4.10', 'v1.5.0', 'v2.0.0', 'v2.1.0-rc.1', 'latest', 'v1.6', 'stable'];
  assert.equal(maxSatisfying(tags, parseRange('>=1.2.0 <2')), 'v1.5.0');
  assert.equal(maxSatisfying(tags, parseRange('~1.4')), 'v1.4.10');
  assert.equal(maxSatisfying(tags, parseRange('1.x')), 'v1.5.0');
  assert.equal(maxSatisfying(tags, parseRange('>=2')), 'v2.0.0');
  assert.equal(maxSatisfying(tags, parseRange('>=2.1.0-rc.0')), 'v2.1.0-rc.1');
  assert.equal(maxSatisfying(tags, parseRange('>=3')), undefined);
});

test('maxSatisfying breaks ties between equal versions by name, whatever the input order', () => {
  assert.equal(maxSatisfying(['1.0.0', 'v1.0.0'], parseRange('1.x')), 'v1.0.0');
  assert.equal(maxSatisfying(['v1.0.0', '1.0.0'], parseRange('1.x')), 'v1.0.0');
});
