import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenderError, RenderErrorReason } from './errors.ts';
import { defaultRenderLimits } from './types.ts';
import { decodeUtf8, parseYaml, resolvePlainScalar } from './yaml.ts';
import type { PlainScalar } from './yaml.ts';

const limits = defaultRenderLimits();

function values(text: string, mode: 'kubernetes' | 'strings' = 'kubernetes'): unknown[] {
  return parseYaml(text, { file: 'app/x.yaml', limits, mode }).map((d) => d.value);
}

function parseError(text: string, changes: Partial<typeof limits> = {}): RenderError {
  try {
    parseYaml(text, { file: 'app/x.yaml', limits: { ...limits, ...changes }, mode: 'kubernetes' });
  } catch (e) {
    assert.ok(e instanceof RenderError);
    assert.equal(e.file, 'app/x.yaml');
    return e;
  }
  assert.fail('expected a RenderError');
}

test('plain scalars resolve as go-yaml v2 (and so kubectl) resolves them', () => {
  // Each expectation is what sigs.k8s.io/yaml turns the plain scalar into before JSON.
  const cases: Array<[string, PlainScalar]> = [
    ['yes', { type: 'bool', value: true }],
    ['Yes', { type: 'bool', value: true }],
    ['on', { type: 'bool', value: true }],
    ['y', { type: 'bool', value: true }],
    ['N', { type: 'bool', value: false }],
    ['off', { type: 'bool', value: false }],
    ['TRUE', { type: 'bool', value: true }],
    ['yEs', { type: 'string', value: 'yEs' }],
    ['~', { type: 'null' }],
    ['', { type: 'null' }],
    ['Null', { type: 'null' }],
    ['0755', { type: 'int', value: 493n }],
    ['0o17', { type: 'int', value: 15n }],
    ['0x1F', { type: 'int', value: 31n }],
    ['0b101', { type: 'int', value: 5n }],
    ['-0b11', { type: 'int', value: -3n }],
    ['1_000', { type: 'int', value: 1000n }],
    ['+12', { type: 'int', value: 12n }],
    ['08', { type: 'float', value: 8 }],
    ['0789', { type: 'float', value: 789 }],
    ['1e3', { type: 'float', value: 1000 }],
    ['1.', { type: 'float', value: 1 }],
    ['.5', { type: 'float', value: 0.5 }],
    ['1e400', { type: 'string', value: '1e400' }],
    ['.inf', { type: 'nonfinite', text: '.inf' }],
    ['-.Inf', { type: 'nonfinite', text: '-.Inf' }],
    ['.NaN', { type: 'nonfinite', text: '.NaN' }],
    ['NaN', { type: 'string', value: 'NaN' }],
    ['2024-01-01', { type: 'string', value: '2024-01-01' }],
    ['1:20', { type: 'string', value: '1:20' }],
    ['0x', { type: 'string', value: '0x' }],
    ['12e', { type: 'string', value: '12e' }],
    ['9223372036854775807', { type: 'int', value: 9223372036854775807n }],
    ['18446744073709551615', { type: 'int', value: 18446744073709551615n }],
    ['-9223372036854775809', { type: 'float', value: Number('-9223372036854775809') }],
    ['v1.2', { type: 'string', value: 'v1.2' }],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(resolvePlainScalar(text), expected, `plain scalar ${JSON.stringify(text)}`);
  }
});

test('documents read as kubectl reads them: YAML 1.1 booleans, octal, merge keys; quoted text stays text', () => {
  const [doc] = values(`
enabled: yes
quoted: "yes"
single: 'on'
block: |
  on
mode: 0644
big: 1e3
when: 2024-01-01
n: key named n
base: &base {a: 1, b: 2}
merged:
  <<: *base
  b: 3
`);
  assert.deepEqual(doc, {
    enabled: true,
    quoted: 'yes',
    single: 'on',
    block: 'on\n',
    mode: 420,
    big: 1000,
    when: '2024-01-01',
    false: 'key named n', // go-yaml v2 reads the key `n` as false; sigs.k8s.io/yaml writes "false"
    base: { a: 1, b: 2 },
    merged: { a: 1, b: 3 },
  });
});

test('strings mode keeps every scalar as written (kustomizations and Chart.yaml are read this way)', () => {
  assert.deepEqual(values('resources: [on, 0755, ~]\nname: yes\nempty:\n', 'strings'), [
    { resources: ['on', '0755', '~'], name: 'yes', empty: null },
  ]);
});

test('multi-document streams keep each document, empty ones as null', () => {
  const docs = parseYaml('---\na: 1\n---\n# nothing\n---\nb: 2\n', { file: 'f', limits, mode: 'kubernetes' });
  assert.deepEqual(
    docs.map((d) => [d.index, d.value]),
    [
      [1, { a: 1 }],
      [2, null],
      [3, { b: 2 }],
    ],
  );
});

test('JSON parses as YAML, with the same number rules', () => {
  assert.deepEqual(values('{"a": 1.0, "b": [true, null], "c": "0755"}'), [
    { a: 1, b: [true, null], c: '0755' },
  ]);
});

test('refused: custom and unsafe tags', () => {
  for (const text of [
    'a: !!js/function "x"',
    'a: !<tag:yaml.org,2002:python/object> x',
    'a: !!binary aGk=',
    'a: !local x',
    'a: !!set {x}',
  ]) {
    const e = parseError(text);
    assert.equal(e.reason, RenderErrorReason.Syntax);
    assert.match(e.message, /line 1: (the tag !!\S+|a custom tag) is not allowed/);
    assert.ok(!e.message.includes('python/object>'), 'a verbatim tag is not echoed');
  }
  assert.deepEqual(values('a: !!str 12\nb: !!map {x: 1}\nc: !!seq [1]'), [{ a: '12', b: { x: 1 }, c: [1] }]);
});

test('refused: duplicate keys, also when they differ only before resolution (yes and true)', () => {
  assert.match(parseError('image: a\nimage: b').message, /line 2: duplicate key "image"/);
  assert.match(parseError('yes: 1\ntrue: 2').message, /line 2: duplicate key "true" \(first on line 1\)/);
  assert.match(parseError('x:\n  1: a\n  01: b').message, /line 3: duplicate key "01"/);
});

test('__proto__ keys are refused and never reach Object.prototype; constructor stays plain data', () => {
  assert.match(
    parseError('metadata:\n  __proto__: {polluted: true}').message,
    /line 2: the key "__proto__" is not allowed/,
  );
  assert.match(parseError('a: &x {__proto__: 1}').message, /__proto__/);
  const [doc] = values('constructor: {prototype: {polluted: true}}\nprototype: 1') as Array<
    Record<string, unknown>
  >;
  assert.deepEqual(Object.keys(doc ?? {}), ['constructor', 'prototype']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(doc), Object.prototype);
});

test('refused: values JSON cannot carry exactly (.inf, .nan, integers past 2^53)', () => {
  assert.match(parseError('a: .inf').message, /\.inf is not a JSON number/);
  assert.match(parseError('a: 9007199254740993').message, /beyond 2\^53/);
  assert.deepEqual(values('a: 9007199254740991\nb: "9007199254740993"'), [
    { a: 9007199254740991, b: '9007199254740993' },
  ]);
});

test('refused: mapping keys sigs.k8s.io/yaml cannot turn into JSON keys', () => {
  assert.match(parseError('1.5: a').message, /floating-point mapping key/);
  assert.match(parseError('~: a').message, /null mapping key/);
  assert.match(parseError('? [a, b]\n: c').message, /collection used as a mapping key/);
  assert.deepEqual(values('9000: a\ntrue: b'), [{ 9000: 'a', true: 'b' }]);
});

test('depth is checked on the tokens, before any recursion: deep flow, block and compact nesting', () => {
  for (const text of [
    '['.repeat(100_000) + ']'.repeat(100_000),
    '- '.repeat(5000) + 'x',
    '{a: '.repeat(3000) + '1' + '}'.repeat(3000),
  ]) {
    const e = parseError(text);
    assert.equal(e.reason, RenderErrorReason.LimitExceeded);
    assert.match(e.message, /nested deeper than 128 levels/);
  }
  // At the limit is fine.
  assert.equal(values('['.repeat(128) + ']'.repeat(128)).length, 1);
  assert.match(parseError('['.repeat(11) + ']'.repeat(11), { maxDepth: 10 }).message, /deeper than 10/);
});

test('alias budget: a billion-laughs document stops after maxAliasCount expansions', () => {
  const lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [prev, cur] of [
    ['a', 'b'],
    ['b', 'c'],
    ['c', 'd'],
    ['d', 'e'],
    ['e', 'f'],
    ['f', 'g'],
    ['g', 'h'],
    ['h', 'i'],
  ]) {
    lol.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const started = Date.now();
  const e = parseError(lol.join('\n'));
  assert.equal(e.reason, RenderErrorReason.LimitExceeded);
  assert.match(e.message, /more than 100 alias expansions/);
  assert.ok(Date.now() - started < 2000, 'refused quickly');
  // The node budget catches a wide expansion that uses few aliases.
  const wide = `a: &a [${Array(5000).fill('1').join(',')}]\nb: [*a, *a, *a]`;
  assert.match(parseError(wide, { maxNodes: 10_000 }).message, /more than 10000 YAML nodes/);
});

test('syntax errors give the line and the parser code, never the offending text', () => {
  const e = parseError('a: 1\nkey: "unterminated CANARY-s3cr3t\n');
  assert.match(e.message, /^app\/x\.yaml: document 1, line \d+: .*\(MISSING_CHAR\)$/);
  assert.ok(!e.message.includes('CANARY'));
  const bad = parseError('a:\n  b: c\n d: CANARY-s3cr3t\n');
  assert.ok(!bad.message.includes('CANARY'), bad.message);
});

test('lone surrogates (escaped in double quotes) are refused', () => {
  assert.match(parseError('a: "\\ud800"').message, /lone UTF-16 surrogate/);
  assert.deepEqual(values('a: "\\ud83d\\ude00"'), [{ a: '😀' }]);
});

test('decodeUtf8: a BOM is dropped; UTF-16, invalid UTF-8 and NUL bytes are refused with an offset', () => {
  assert.equal(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), 'f'), 'a');
  const cases: Array<[number[], RegExp]> = [
    [[0xff, 0xfe, 0x61, 0x00], /UTF-16/],
    [[0x61, 0x62, 0xc3, 0x28], /invalid UTF-8 at byte offset 2/],
    [[0x61, 0xed, 0xa0, 0x80], /invalid UTF-8 at byte offset 1/], // an encoded surrogate
    [[0x61, 0xc0, 0xaf], /invalid UTF-8 at byte offset 1/], // an overlong encoding
    [[0x61, 0x00, 0x62], /NUL byte at offset 1/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(
      () => decodeUtf8(new Uint8Array(bytes), 'app/bin.yaml'),
      (e: unknown) =>
        e instanceof RenderError && e.reason === RenderErrorReason.Encoding && pattern.test(e.message),
    );
  }
});
