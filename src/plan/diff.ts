// The diff people read: two object states, normalised so only meaningful differences remain,
// Secret values redacted, as a unified diff and as data. Pure.
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/objects.ts';
import { canonicalJson } from './digest.ts';
import { DORA } from './metadata.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
] as const;

/** Drops what the server owns or that changes on every write, keeping what a person wrote. */
export function normalizeForDiff(obj: KubeObject): KubeObject {
  const { status: _status, ...rest } = obj;
  const metadata = { ...obj.metadata };
  for (const key of SERVER_METADATA) delete metadata[key];
  const annotations = { ...metadata.annotations };
  delete annotations[LAST_APPLIED];
  for (const key of Object.values(DORA)) delete annotations[key];
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  return sortKeys({ ...rest, metadata }) as KubeObject;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

export const REDACTED = '<redacted>';

function isSecret(obj: KubeObject | undefined): boolean {
  return !!obj && obj.kind === 'Secret' && (obj.apiVersion === 'v1' || obj.apiVersion === '/v1');
}

/**
 * Replaces Secret values on both sides, keeping the fact that a value changed visible: equal
 * values read `<redacted>` on both sides, different ones `<redacted (before)>` and `<redacted (after)>`.
 * The one exit point for Secret values in diffs.
 */
export function redactSecrets(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): [KubeObject | undefined, KubeObject | undefined] {
  if (!isSecret(before) && !isSecret(after)) return [before, after];
  const redact = (obj: KubeObject | undefined, other: KubeObject | undefined, side: 'before' | 'after') => {
    if (!obj) return obj;
    const out: KubeObject = { ...obj };
    for (const field of ['data', 'stringData'] as const) {
      const values = obj[field] as Record<string, string> | undefined;
      if (!values || typeof values !== 'object') continue;
      const others = (other?.[field] ?? {}) as Record<string, string>;
      out[field] = Object.fromEntries(
        Object.keys(values).map((k) => [
          k,
          others[k] === undefined || others[k] === values[k] ? REDACTED : `<redacted (${side})>`,
        ]),
      );
    }
    return out;
  };
  return [redact(before, after, 'before'), redact(after, before, 'after')];
}

/**
 * A message about an object (an API error, a log line) with the object's Secret values, plain and
 * base64, replaced: API servers may echo an invalid value back.
 */
export function redactSecretValues(message: string, obj: KubeObject | undefined): string {
  if (!isSecret(obj)) return message;
  const values = new Set<string>();
  for (const field of ['data', 'stringData'] as const) {
    for (const v of Object.values((obj![field] ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string' || v.length < 4) continue;
      values.add(v);
      values.add(
        field === 'stringData'
          ? Buffer.from(v).toString('base64')
          : Buffer.from(v, 'base64').toString('utf8'),
      );
    }
  }
  let out = message;
  for (const v of [...values].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length))
    out = out.split(v).join(REDACTED);
  return out;
}

export interface ObjectDiff {
  /** `Kind/namespace/name`. */
  name: string;
  change: 'create' | 'configure' | 'delete' | 'none';
  /** Unified diff of the normalised YAML; empty when nothing differs. */
  patch: string;
  added: number;
  removed: number;
}

function toYaml(obj: KubeObject | undefined): string {
  return obj ? stringify(obj, { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false }) : '';
}

/** The difference between the live object (or nothing) and what the server would hold (or nothing). */
export function diffObjects(
  name: string,
  live: KubeObject | undefined,
  predicted: KubeObject | undefined,
): ObjectDiff {
  const [before, after] = redactSecrets(
    live && normalizeForDiff(live),
    predicted && normalizeForDiff(predicted),
  );
  const change = !before
    ? 'create'
    : !after
      ? 'delete'
      : canonicalJson(before) === canonicalJson(after)
        ? 'none'
        : 'configure';
  if (change === 'none') return { name, change, patch: '', added: 0, removed: 0 };
  const patch = createTwoFilesPatch(
    `live/${name}`,
    `desired/${name}`,
    toYaml(before),
    toYaml(after),
    undefined,
    undefined,
    { context: 3 },
  );
  const lines = patch.split('\n').slice(2);
  return {
    name,
    change,
    patch: patch.split('\n').slice(1).join('\n'), // drop the "=====" banner
    added: lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length,
    removed: lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length,
  };
}
