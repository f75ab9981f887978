// Safe YAML for manifests. The `yaml` package parses (core schema, unique keys, no pretty error
// excerpts that would echo file content); Cairn then builds the values itself:
//   - Plain scalars mean what kubectl would send. kubectl and Argo CD read YAML through
//     sigs.k8s.io/yaml, that is go-yaml v2, a YAML 1.1 resolver: `yes`, `on`, `y` are booleans,
//     `0755` is octal 493, `1_000` is 1000, timestamps stay strings (resolvePlainScalar follows
//     go-yaml v2's resolve.go). Cairn sends the same values, so a repository means the same thing
//     to Cairn as to kubectl; the price of YAML 1.1 (`enabled: yes` in a ConfigMap is a boolean the
//     API server refuses) is paid early: objects.ts refuses non-string values in the fields every
//     API server types as map[string]string, naming the field and suggesting quotes.
//   - Quoted and block scalars are always text. Only the !!str, !!map and !!seq tags are accepted
//     (`!!js/function`, `!!binary`, `!<tag:...>` are refused).
//   - Nesting depth is checked on the parser's tokens before anything recursive runs; aliases are
//     budgeted by count and by the nodes they expand to (billion laughs).
//   - `__proto__` keys are refused; every other key is an own data property.
//   - Values JSON cannot carry exactly (`.inf`, `.nan`, integers beyond 2^53) are refused rather
//     than changed; kubectl fails on the first two as well.
import { Composer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { CST, Document, Node as YamlNode, Scalar } from 'yaml';
import { RenderError, RenderErrorReason, displayText } from './errors.ts';
import type { RenderLimits } from './types.ts';

/** How plain scalars are read: as kubectl would (`kubernetes`), or all as text (`strings`). */
export type ScalarMode = 'kubernetes' | 'strings';

export interface YamlDocument {
  /** 1-based position in the stream. */
  index: number;
  /** Offset of the document's content in the text. */
  offset: number;
  /** The document as JSON-compatible data; null for an empty document. */
  value: unknown;
}

export interface ParseYamlOptions {
  file: string;
  limits: RenderLimits;
  mode: ScalarMode;
  /** Where an offset of the text is, for messages (helm's output maps back to its templates). */
  locate?: (offset: number) => { file: string; line: number };
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Bytes to text: UTF-8 only (a UTF-8 byte order mark is dropped), no NUL bytes. The message gives
 * the byte offset, never the bytes.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  let start = 0;
  if (bytes.length >= 3 && UTF8_BOM.every((b, i) => bytes[i] === b)) start = 3;
  const body = bytes.subarray(start);
  if ((body[0] === 0xff && body[1] === 0xfe) || (body[0] === 0xfe && body[1] === 0xff)) {
    throw new RenderError(file, RenderErrorReason.Encoding, 'UTF-16 text; Cairn reads UTF-8 only');
  }
  const nul = body.indexOf(0);
  if (nul !== -1) {
    throw new RenderError(
      file,
      RenderErrorReason.Encoding,
      `a NUL byte at offset ${nul + start}: not a text file`,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch (e) {
    throw new RenderError(
      file,
      RenderErrorReason.Encoding,
      `invalid UTF-8 at byte offset ${firstInvalidUtf8(body) + start}`,
      { cause: e },
    );
  }
}

/** Offset of the first byte that breaks UTF-8 (overlongs, surrogates and > U+10FFFF included). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    let need: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = c & (0xff >> (need + 2));
    for (let k = 1; k <= need; k++) {
      const n = b[i + k];
      if (n === undefined || (n & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (n & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}

/** What go-yaml v2 (and so kubectl and Argo CD) makes of a plain, untagged scalar. */
export type PlainScalar =
  | { type: 'null' }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'nonfinite'; text: string }
  | { type: 'string'; value: string };

// go-yaml v2's resolve table (resolve.go): YAML 1.1 booleans and nulls, and the special floats.
const GO_YAML_WORDS: ReadonlyMap<string, PlainScalar> = new Map<string, PlainScalar>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map(
    (w): [string, PlainScalar] => [w, { type: 'bool', value: true }],
  ),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map(
    (w): [string, PlainScalar] => [w, { type: 'bool', value: false }],
  ),
  ...['', '~', 'null', 'Null', 'NULL'].map((w): [string, PlainScalar] => [w, { type: 'null' }]),
  ...[
    '.nan',
    '.NaN',
    '.NAN',
    '.inf',
    '.Inf',
    '.INF',
    '+.inf',
    '+.Inf',
    '+.INF',
    '-.inf',
    '-.Inf',
    '-.INF',
  ].map((w): [string, PlainScalar] => [w, { type: 'nonfinite', text: w }]),
]);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
// go-yaml v2's yamlStyleFloat.
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64) syntax, without the range check. */
function parseGoInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const [, sign, digits = ''] = m;
  let magnitude: bigint;
  if (/^0[oO]/.test(digits)) magnitude = BigInt(`0o${digits.slice(2)}`);
  else if (/^0[0-7]+$/.test(digits)) magnitude = BigInt(`0o${digits.slice(1)}`);
  else magnitude = BigInt(digits); // decimal, 0x and 0b are BigInt syntax already
  return sign === '-' ? -magnitude : magnitude;
}

/**
 * go-yaml v2's resolve() for a plain scalar: the first character picks what to try, then a word
 * table, then Go's integer syntax with any base prefix (a leading 0 is octal, `_` is ignored), then
 * a decimal float. Timestamps stay strings, as go-yaml v2 gives them when decoding into interface{}.
 */
export function resolvePlainScalar(text: string): PlainScalar {
  const first = text[0];
  const hint =
    text === ''
      ? 'M'
      : first === '+' || first === '-'
        ? 'S'
        : first !== undefined && first >= '0' && first <= '9'
          ? 'D'
          : first !== undefined && 'yYnNtTfFoO~'.includes(first)
            ? 'M'
            : first === '.'
              ? '.'
              : '';
  if (hint === '') return { type: 'string', value: text };
  const word = GO_YAML_WORDS.get(text);
  if (word) return word;
  if (hint === 'M') return { type: 'string', value: text };
  if (hint === '.') {
    // strconv.ParseFloat on the raw text; only a decimal fraction can start with '.'.
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text)) {
      const value = Number(text);
      if (Number.isFinite(value)) return { type: 'float', value };
    }
    return { type: 'string', value: text };
  }
  const plain = text.replaceAll('_', '');
  const int = parseGoInt(plain);
  if (int !== undefined) {
    if (int >= INT64_MIN && int <= INT64_MAX) return { type: 'int', value: int };
    // ParseUint takes no sign.
    if (!/^[+-]/.test(plain) && int <= UINT64_MAX) return { type: 'int', value: int };
  }
  if (YAML_STYLE_FLOAT.test(plain)) {
    const value = Number(plain);
    // ParseFloat reports a range error for overflow; go-yaml then keeps the text.
    if (Number.isFinite(value)) return { type: 'float', value };
  }
  return { type: 'string', value: text };
}

const STR_TAG = 'tag:yaml.org,2002:str';
const MAP_TAG = 'tag:yaml.org,2002:map';
const SEQ_TAG = 'tag:yaml.org,2002:seq';

/** The deepest collection nesting of a CST token, walking iteratively (no recursion to overflow). */
function cstTooDeep(root: CST.Token, limit: number): number | undefined {
  const stack: Array<[CST.Token, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [token, depth] = stack.pop() as [CST.Token, number];
    switch (token.type) {
      case 'document':
        if (token.value) stack.push([token.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > limit) return token.offset;
        for (const item of token.items) {
          if ('key' in item && item.key) stack.push([item.key, depth + 1]);
          if (item.value) stack.push([item.value, depth + 1]);
        }
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/**
 * The parser's message without anything that may come from the file: quoted text, and whatever
 * follows "message: " (the parser appends names and tokens there).
 */
function parserMessage(message: string): string {
  const firstLine = message.split('\n')[0] ?? '';
  const general = firstLine.replace(/"(?:[^"\\]|\\.)*"|'[^']*'|`[^`]*`/g, '"…"').replace(/: .*$/, '');
  return displayText(general, 160);
}

/** The state of converting one document: where messages point, and the budgets spent so far. */
interface ConvertContext {
  options: ParseYamlOptions;
  docIndex: number;
  where: (offset: number) => { file: string; line: number };
  aliases: number;
  nodes: number;
  /** Inside an alias expansion, anchors are not redefined (the copy is not a new definition). */
  expanding: number;
  anchors: Map<string, YamlNode>;
}

function fail(
  ctx: ConvertContext,
  reason: RenderErrorReason,
  node: YamlNode | null | undefined,
  message: string,
): never {
  const at = ctx.where(node?.range?.[0] ?? 0);
  throw new RenderError(at.file, reason, `document ${ctx.docIndex}, line ${at.line}: ${message}`);
}

/** A tag as shown in messages: a short yaml.org name (`!!js/function`), or nothing of the file's text. */
function shownTag(tag: string): string {
  const short = tag.startsWith('tag:yaml.org,2002:') ? tag.slice('tag:yaml.org,2002:'.length) : undefined;
  return short !== undefined && /^[A-Za-z][A-Za-z0-9/._-]{0,30}$/.test(short)
    ? `the tag !!${short}`
    : 'a custom tag';
}

function refuseTag(ctx: ConvertContext, node: YamlNode, tag: string): never {
  return fail(
    ctx,
    RenderErrorReason.Syntax,
    node,
    `${shownTag(tag)} is not allowed (only !!str, !!map and !!seq are)`,
  );
}

function convertNode(ctx: ConvertContext, node: YamlNode | null, depth: number): unknown {
  if (node === null) return null;
  const { limits } = ctx.options;
  if (depth > limits.maxDepth) {
    fail(ctx, RenderErrorReason.LimitExceeded, node, `nested deeper than ${limits.maxDepth} levels`);
  }
  if (++ctx.nodes > limits.maxNodes) {
    fail(
      ctx,
      RenderErrorReason.LimitExceeded,
      node,
      `more than ${limits.maxNodes} YAML nodes once aliases are expanded`,
    );
  }
  if (ctx.expanding === 0 && 'anchor' in node && typeof node.anchor === 'string') {
    ctx.anchors.set(node.anchor, node);
  }
  if (isAlias(node)) {
    if (++ctx.aliases > limits.maxAliasCount) {
      fail(ctx, RenderErrorReason.LimitExceeded, node, `more than ${limits.maxAliasCount} alias expansions`);
    }
    const target = ctx.anchors.get(node.source);
    if (!target) fail(ctx, RenderErrorReason.Syntax, node, 'an alias without its anchor');
    ctx.expanding++;
    try {
      return convertNode(ctx, target, depth);
    } finally {
      ctx.expanding--;
    }
  }
  if (isScalar(node)) return convertScalar(ctx, node);
  if (isMap(node)) {
    if (node.tag !== undefined && node.tag !== MAP_TAG && node.tag !== '!') refuseTag(ctx, node, node.tag);
    return convertMapping(ctx, node.items, depth);
  }
  if (isSeq(node)) {
    if (node.tag !== undefined && node.tag !== SEQ_TAG && node.tag !== '!') refuseTag(ctx, node, node.tag);
    return node.items.map((item) => convertNode(ctx, item as YamlNode | null, depth + 1));
  }
  return fail(ctx, RenderErrorReason.Syntax, node, 'unexpected YAML node');
}

function convertScalar(ctx: ConvertContext, node: Scalar): unknown {
  // The composer keeps every scalar's text (for quoted ones, after escapes are resolved).
  const text = typeof node.source === 'string' ? node.source : '';
  let value: unknown;
  if (node.tag !== undefined) {
    if (node.tag !== STR_TAG && node.tag !== '!') refuseTag(ctx, node, node.tag);
    value = text;
  } else if (node.type !== 'PLAIN' || ctx.options.mode === 'strings') {
    value = node.type === 'PLAIN' && text === '' ? null : text;
  } else {
    const plain = resolvePlainScalar(text);
    switch (plain.type) {
      case 'null':
        value = null;
        break;
      case 'bool':
      case 'string':
      case 'float':
        value = plain.value;
        break;
      case 'nonfinite':
        return fail(
          ctx,
          RenderErrorReason.Syntax,
          node,
          `${plain.text} is not a JSON number (kubectl refuses it too); quote it to mean a string`,
        );
      case 'int':
        if (plain.value > BigInt(Number.MAX_SAFE_INTEGER) || plain.value < BigInt(Number.MIN_SAFE_INTEGER)) {
          return fail(
            ctx,
            RenderErrorReason.Syntax,
            node,
            'an integer beyond 2^53 cannot be carried exactly; quote it to mean a string',
          );
        }
        value = Number(plain.value);
        break;
    }
  }
  if (typeof value === 'string' && !value.isWellFormed()) {
    fail(ctx, RenderErrorReason.Encoding, node, 'a string holds a lone UTF-16 surrogate (invalid Unicode)');
  }
  return value;
}

/** A key as sigs.k8s.io/yaml turns it into a JSON key: text, integers and booleans only. */
function convertKey(ctx: ConvertContext, node: YamlNode | null, depth: number): string {
  if (node === null) return fail(ctx, RenderErrorReason.Syntax, node, 'an empty mapping key');
  const value = convertNode(ctx, node, depth + 1);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return fail(
    ctx,
    RenderErrorReason.Syntax,
    node,
    value === null
      ? 'a null mapping key'
      : typeof value === 'number'
        ? 'a floating-point mapping key; quote it'
        : 'a collection used as a mapping key',
  );
}

function convertMapping(ctx: ConvertContext, items: unknown[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const explicit = new Map<string, number>();
  for (const pair of items) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key as YamlNode | null;
    const valueNode = pair.value as YamlNode | null;
    if (
      isScalar(keyNode) &&
      keyNode.type === 'PLAIN' &&
      keyNode.tag === undefined &&
      keyNode.source === '<<'
    ) {
      mergeInto(ctx, out, explicit, valueNode, depth);
      continue;
    }
    const key = convertKey(ctx, keyNode, depth);
    if (key === '__proto__') {
      fail(ctx, RenderErrorReason.Syntax, keyNode, 'the key "__proto__" is not allowed');
    }
    const line = ctx.where(keyNode?.range?.[0] ?? 0).line;
    const earlier = explicit.get(key);
    if (earlier !== undefined) {
      fail(
        ctx,
        RenderErrorReason.Syntax,
        keyNode,
        `duplicate key ${JSON.stringify(displayText(key, 80))} (first on line ${earlier})`,
      );
    }
    explicit.set(key, line);
    setOwn(out, key, convertNode(ctx, valueNode, depth + 1));
  }
  return out;
}

/** `<<: *base` or `<<: [*a, *b]`: go-yaml v2 sets merged keys in order, earlier list entries winning. */
function mergeInto(
  ctx: ConvertContext,
  out: Record<string, unknown>,
  explicit: Map<string, number>,
  node: YamlNode | null,
  depth: number,
): void {
  const sources = isSeq(node) ? [...(node.items as YamlNode[])].reverse() : [node];
  for (const source of sources) {
    const value = convertNode(ctx, source, depth + 1);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail(ctx, RenderErrorReason.Syntax, source, 'a merge key (<<) needs a mapping or a list of mappings');
    }
    for (const [k, v] of Object.entries(value)) {
      // A key written before the merge is overwritten, as go-yaml v2 does; one written after it
      // wins because it is set later.
      explicit.delete(k);
      setOwn(out, k, v);
    }
  }
}

/** An own, enumerable data property, whatever the key (never the `__proto__` setter). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses a YAML stream (or JSON) into plain data, one entry per document, under the limits. */
export function parseYaml(text: string, options: ParseYamlOptions): YamlDocument[] {
  const { file, limits } = options;
  const lines = new LineCounter();
  const where =
    options.locate ??
    ((offset: number) => ({
      file,
      line: lines.linePos(offset).line,
    }));
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  let index = 0;
  for (const token of tokens) {
    if (token.type !== 'document') continue;
    index++;
    const at = cstTooDeep(token, limits.maxDepth);
    if (at !== undefined) {
      const pos = where(at);
      throw new RenderError(
        pos.file,
        RenderErrorReason.LimitExceeded,
        `document ${index}, line ${pos.line}: nested deeper than ${limits.maxDepth} levels`,
      );
    }
  }
  const composer = new Composer({
    schema: 'core',
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
    merge: false,
    keepSourceTokens: false,
  });
  const docs = [...composer.compose(tokens)] as Document.Parsed[];
  const out: YamlDocument[] = [];
  let nodes = 0;
  docs.forEach((doc, i) => {
    const n = i + 1;
    const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code !== 'TAG_RESOLVE_FAILED');
    if (problem) {
      const pos = where(problem.pos[0]);
      const duplicate = problem.code === 'DUPLICATE_KEY' ? duplicateKeyName(text, problem.pos) : '';
      throw new RenderError(
        pos.file,
        problem.code === 'RESOURCE_EXHAUSTION' ? RenderErrorReason.LimitExceeded : RenderErrorReason.Syntax,
        `document ${n}, line ${pos.line}: ${
          duplicate ? `duplicate key ${duplicate}` : `${parserMessage(problem.message)} (${problem.code})`
        }`,
      );
    }
    const contents = doc.contents as YamlNode | null;
    // The node budget is per file; the alias budget per document.
    const ctx: ConvertContext = {
      options,
      docIndex: n,
      where,
      aliases: 0,
      nodes,
      expanding: 0,
      anchors: new Map(),
    };
    out.push({ index: n, offset: contents?.range?.[0] ?? 0, value: convertNode(ctx, contents, 0) });
    nodes = ctx.nodes;
  });
  return out;
}

/** The key named by a DUPLICATE_KEY error, when it is a short single-line scalar. */
function duplicateKeyName(text: string, pos: [number, number]): string {
  const line = text.slice(pos[0], pos[0] + 100).split('\n')[0] ?? '';
  const key = line.replace(/\s*:(\s.*)?$/, '').replace(/^["']|["']$/g, '');
  return key && !key.includes('\n') && key.length <= 80 ? JSON.stringify(displayText(key)) : '';
}
