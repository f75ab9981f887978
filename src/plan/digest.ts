import { createHash } from 'node:crypto';
import type { KubeObject } from '../cluster/objects.ts';
import { stripFieldsV1 } from './ignore.ts';
import { DORA } from './metadata.ts';

/** JSON with object keys sorted, so equal objects serialise equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Digest of what Cairn applies for an object. The deployment-tracking annotations are left out:
 * they change with every deployment and must not make an unchanged object look changed.
 */
export function desiredDigest(obj: KubeObject): string {
  const annotations = { ...obj.metadata.annotations };
  for (const key of Object.values(DORA)) delete annotations[key];
  const metadata = {
    ...obj.metadata,
    annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
  };
  return sha256(canonicalJson({ ...obj, metadata }));
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

/**
 * Digest of the fields a manager owns through server-side apply on a live object, or undefined
 * when it owns none. Unchanged between two reads means nobody took a field from it: SSA moves
 * ownership of a field to whoever changes its value.
 */
export function ownedFieldsDigest(
  live: KubeObject,
  manager: string,
  ignoredPointers: readonly string[] = [],
): string | undefined {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const entry = entries.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
  if (entry?.fieldsV1 === undefined) return undefined;
  // A watch cache may keep the field set as its canonical JSON (see compactFieldsV1).
  if (typeof entry.fieldsV1 === 'string') {
    if (ignoredPointers.length === 0) return sha256(entry.fieldsV1);
    return sha256(canonicalJson(stripFieldsV1(JSON.parse(entry.fieldsV1), ignoredPointers)));
  }
  return sha256(canonicalJson(stripFieldsV1(entry.fieldsV1, ignoredPointers)));
}

/**
 * A managed-fields entry with its field set as canonical JSON: one string instead of a tree of
 * one empty object per field, which is most of what a watch cache holds of a small object.
 * ownedFieldsDigest gives the same digest for both forms.
 */
export function compactFieldsV1<T extends { fieldsV1?: unknown }>(entry: T): T {
  return entry.fieldsV1 === undefined || typeof entry.fieldsV1 === 'string'
    ? entry
    : { ...entry, fieldsV1: canonicalJson(entry.fieldsV1) };
}
