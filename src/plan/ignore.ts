// ignoreDifferences: fields another controller owns (an HPA's replicas, a webhook's caBundle).
// Cairn neither reverts them nor counts them as drift. Pure.
import type { KubeObject } from '../cluster/objects.ts';
import { groupOf } from './keys.ts';

export interface IgnoreRule {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  /** RFC 6901 pointers, e.g. `/spec/replicas`. */
  jsonPointers: string[];
}

export function matchingPointers(obj: KubeObject, rules: readonly IgnoreRule[]): string[] {
  const group = groupOf(obj.apiVersion);
  return rules
    .filter(
      (r) =>
        r.kind === obj.kind &&
        (r.group === undefined || r.group === group) &&
        (r.name === undefined || r.name === obj.metadata.name) &&
        (r.namespace === undefined || r.namespace === obj.metadata.namespace),
    )
    .flatMap((r) => r.jsonPointers);
}

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer "${pointer}" must start with /`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

type Json = unknown;

function getAt(value: Json, path: string[]): { found: boolean; value?: Json } {
  let cur = value;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      const i = Number(seg);
      if (!Number.isInteger(i) || i < 0 || i >= cur.length) return { found: false };
      cur = cur[i];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, seg)) {
      cur = (cur as Record<string, Json>)[seg];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}

/** A copy of `value` with the field at `path` set (`found`) or removed; parents are copied, not shared. */
function setAt(value: Json, path: string[], replacement: { found: boolean; value?: Json }): Json {
  if (path.length === 0) return replacement.found ? replacement.value : undefined;
  const [seg, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    const i = Number(seg);
    if (!Number.isInteger(i) || i < 0 || i >= value.length) return value;
    const copy: Json[] = [...(value as Json[])];
    copy[i] = setAt(value[i], rest, replacement);
    return copy;
  }
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, Json> = { ...(value as Record<string, Json>) };
  if (rest.length === 0) {
    if (replacement.found) copy[seg] = replacement.value;
    else delete copy[seg];
    return copy;
  }
  if (!Object.hasOwn(copy, seg)) return value;
  copy[seg] = setAt(copy[seg], rest, replacement);
  return copy;
}

/** The object without the ignored fields: what its digest is computed from. */
export function removePointers(obj: KubeObject, pointers: readonly string[]): KubeObject {
  let out: Json = obj;
  for (const p of pointers) out = setAt(out, parsePointer(p), { found: false });
  return out as KubeObject;
}

/**
 * The object to apply when it already exists: ignored fields carry the live values, so applying
 * changes nothing there (and removing a field only Cairn owned would delete it).
 */
export function keepLiveValues(obj: KubeObject, live: KubeObject, pointers: readonly string[]): KubeObject {
  let out: Json = obj;
  for (const p of pointers) {
    const path = parsePointer(p);
    out = setAt(out, path, getAt(live, path));
  }
  return out as KubeObject;
}

/**
 * managedFields without the ignored fields, so ownership moving there is not drift. Pointers
 * through list indices cannot be mapped onto field sets and are left in.
 */
export function stripFieldsV1(fields: Json, pointers: readonly string[]): Json {
  let out = fields;
  for (const p of pointers) {
    const path = parsePointer(p);
    if (path.some((seg) => /^\d+$/.test(seg))) continue;
    out = setAt(
      out,
      path.map((seg) => `f:${seg}`),
      { found: false },
    );
  }
  return out;
}
