// Parsed documents to Kubernetes objects, and the checks every rendered object must pass before
// any later stage sees it. Pure: data in, manifests or a RenderError out.
import type { KubeObject } from '../cluster/objects.ts';
import { RenderError, RenderErrorReason, displayPath, displayText } from './errors.ts';
import type { Manifest, ManifestSource, RenderLimits, RenderWarning } from './types.ts';
import type { YamlDocument } from './yaml.ts';

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function where(source: ManifestSource): string {
  return source.item === undefined
    ? `document ${source.document}`
    : `document ${source.document}, item ${source.item}`;
}

function fail(source: ManifestSource, reason: RenderErrorReason, message: string): never {
  throw new RenderError(source.file, reason, `${where(source)}: ${message}`);
}

/** A `kind: List` (or `FooList`) holding its objects in `items`, as kubectl expands them. */
function isList(value: Record<string, unknown>): value is Record<string, unknown> & { items: unknown[] } {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

function looksLikeObject(value: Record<string, unknown>): boolean {
  return 'apiVersion' in value || 'kind' in value || 'metadata' in value;
}

/**
 * One file's documents to manifests: empty documents are dropped, Lists expanded depth first in
 * order, and a mapping with none of apiVersion, kind or metadata (a values file, a tool's config)
 * is skipped with a warning, as Argo CD does. Objects are validated later, all together.
 */
export function manifestsFromDocuments(
  file: string,
  docs: YamlDocument[],
): { manifests: Manifest[]; warnings: RenderWarning[] } {
  const manifests: Manifest[] = [];
  const warnings: RenderWarning[] = [];
  for (const doc of docs) {
    const source: ManifestSource = { file, document: doc.index };
    if (doc.value === null) continue;
    if (!isMapping(doc.value)) {
      fail(
        source,
        RenderErrorReason.InvalidObject,
        `a ${Array.isArray(doc.value) ? 'sequence' : 'scalar'}, not a Kubernetes object`,
      );
    }
    if (!looksLikeObject(doc.value)) {
      warnings.push({
        file,
        message: `${displayPath(file)}: ${where(source)}: not a Kubernetes object (no apiVersion, kind or metadata); ignored`,
      });
      continue;
    }
    if (!isList(doc.value)) {
      manifests.push({ object: doc.value as KubeObject, source });
      continue;
    }
    let item = 0;
    // Depth first, in order; the stack holds what is left of each List being expanded.
    const stack: unknown[][] = [[...doc.value.items]];
    while (stack.length > 0) {
      const rest = stack[stack.length - 1] as unknown[];
      if (rest.length === 0) {
        stack.pop();
        continue;
      }
      const next = rest.shift();
      item++;
      const at: ManifestSource = { file, document: doc.index, item };
      if (!isMapping(next)) fail(at, RenderErrorReason.InvalidObject, 'a List item that is not an object');
      if (isList(next)) {
        item--;
        stack.push([...next.items]);
        continue;
      }
      manifests.push({ object: next as KubeObject, source: at });
    }
  }
  return { manifests, warnings };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const API_VERSION = /^(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?\/)?[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/**
 * What the API server refuses for every kind, found before any request: the name must be usable
 * as a URL path segment. Uppercase and `:` are left alone (RBAC names use them); DNS rules that
 * differ per kind are the API server's to apply.
 */
export function nameProblem(name: unknown, field: string): string | undefined {
  if (typeof name !== 'string') return `${field} must be a string`;
  if (name === '') return `${field} is empty`;
  if (name.length > 253) return `${field} is longer than 253 characters`;
  if (name === '.' || name === '..') return `${field} may not be "." or ".."`;
  if (name.includes('/')) return `${field} may not contain "/"`;
  if (name.includes('%')) return `${field} may not contain "%"`;
  if (CONTROL.test(name)) return `${field} may not contain control characters or line breaks`;
  return undefined;
}

/**
 * Fields every API server types as map[string]string: a value kubectl sends as a boolean or a number
 * (YAML 1.1 reads unquoted yes/no/on/off/y/n as booleans) is refused there, so it is refused here
 * first, with the field named. One table: `*` applies to every kind.
 */
const STRING_MAP_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '*': ['metadata.labels', 'metadata.annotations'],
  'v1/ConfigMap': ['data', 'binaryData'],
  'v1/Secret': ['data', 'stringData'],
};

function fieldAt(obj: Record<string, unknown>, path: string): unknown {
  let value: unknown = obj;
  for (const part of path.split('.')) {
    if (!isMapping(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return 'a number';
  return typeof value;
}

/** The first reason this value cannot be a Kubernetes object, or undefined. Values are never quoted. */
export function objectProblem(value: Record<string, unknown>): string | undefined {
  const { apiVersion, kind, metadata } = value;
  if (apiVersion === undefined) return 'apiVersion is missing';
  if (typeof apiVersion !== 'string' || !API_VERSION.test(apiVersion)) {
    return `apiVersion ${typeof apiVersion === 'string' ? JSON.stringify(displayText(apiVersion, 80)) : `(${typeName(apiVersion)})`} is not a group/version`;
  }
  if (kind === undefined) return 'kind is missing';
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    return `kind ${typeof kind === 'string' ? JSON.stringify(displayText(kind, 80)) : `(${typeName(kind)})`} is not a Kind name`;
  }
  if (kind === 'ConfigManagementPlugin' && apiVersion.startsWith('argoproj.io/')) {
    return 'an Argo CD config management plugin: Cairn does not run plugins';
  }
  if (!isMapping(metadata))
    return metadata === undefined ? 'metadata is missing' : 'metadata is not a mapping';
  if (metadata.name === undefined) {
    if (metadata.generateName === undefined) return 'metadata.name is missing';
    const problem = nameProblem(metadata.generateName, 'metadata.generateName');
    if (problem) return problem;
  } else {
    const problem = nameProblem(metadata.name, 'metadata.name');
    if (problem) return problem;
  }
  const ns = metadata.namespace;
  if (ns !== undefined && ns !== null && ns !== '') {
    if (typeof ns !== 'string') return 'metadata.namespace must be a string';
    if (ns.length > 63 || !DNS_LABEL.test(ns)) {
      return `metadata.namespace ${JSON.stringify(displayText(ns, 80))} is not a DNS label (lowercase letters, digits and "-", at most 63)`;
    }
  }
  const fields = [...(STRING_MAP_FIELDS['*'] ?? []), ...(STRING_MAP_FIELDS[`${apiVersion}/${kind}`] ?? [])];
  for (const field of fields) {
    const map = fieldAt(value, field);
    if (map === undefined || map === null) continue;
    if (!isMapping(map)) return `${field} must be a mapping of strings, not ${typeName(map)}`;
    for (const [key, entry] of Object.entries(map)) {
      if (typeof entry !== 'string') {
        const hint =
          typeof entry === 'boolean' || typeof entry === 'number'
            ? ': quote the value (kubectl, like Cairn, reads unquoted yes/no/on/off/y/n as booleans and 0755 as octal)'
            : '';
        return `${field}[${JSON.stringify(displayText(key, 80))}] is ${typeName(entry)}, not a string${hint}`;
      }
    }
  }
  return undefined;
}

/** `group/Kind/namespace/name`: what makes two objects the same object on the API server. */
export function objectIdentity(obj: KubeObject): string | undefined {
  const name = obj.metadata.name;
  if (typeof name !== 'string') return undefined; // generateName: a new object each time
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.slice(0, obj.apiVersion.indexOf('/')) : '';
  return `${group}/${obj.kind}/${obj.metadata.namespace ?? ''}/${name}`;
}

function describe(obj: KubeObject): string {
  const name = obj.metadata.name ?? `${obj.metadata.generateName ?? ''}*`;
  const ns = obj.metadata.namespace;
  return displayText(ns ? `${obj.kind}/${ns}/${name}` : `${obj.kind}/${name}`, 300);
}

/**
 * Every object valid, no more than the limit, no identity twice. Throws a RenderError naming the
 * file (and for duplicates both files).
 */
export function checkManifests(manifests: readonly Manifest[], limits: RenderLimits): void {
  const seen = new Map<string, Manifest>();
  manifests.forEach((manifest, i) => {
    if (i + 1 > limits.maxObjects) {
      fail(
        manifest.source,
        RenderErrorReason.LimitExceeded,
        `more than ${limits.maxObjects} objects in one render`,
      );
    }
    const problem = objectProblem(manifest.object);
    if (problem) {
      const kind =
        typeof manifest.object.kind === 'string' ? `${displayText(manifest.object.kind, 80)}: ` : '';
      fail(
        manifest.source,
        problem.startsWith('an Argo CD') ? RenderErrorReason.Unsupported : RenderErrorReason.InvalidObject,
        `${kind}${problem}`,
      );
    }
    const identity = objectIdentity(manifest.object);
    if (identity === undefined) return;
    const first = seen.get(identity);
    if (first) {
      fail(
        manifest.source,
        RenderErrorReason.DuplicateObject,
        `${describe(manifest.object)} is also defined in ${displayPath(first.source.file)} (${where(first.source)})`,
      );
    }
    seen.set(identity, manifest);
  });
}

/** Plain folders: by file (code-unit order, not the locale's), then document, then List item. */
export function compareSources(a: ManifestSource, b: ManifestSource): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.document !== b.document) return a.document - b.document;
  return (a.item ?? 0) - (b.item ?? 0);
}
