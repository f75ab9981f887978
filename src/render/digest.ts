// The render cache key: the files a render read (by path, real location and content) and every
// option that can change its output. Not the commit: a push that touches another application's
// folder leaves this digest, and the cached result, alone. Pure.
import { createHash } from 'node:crypto';
import type { ReadFile } from './guard.ts';

/** Bump when the render's output for the same inputs changes shape. */
export const RENDER_FORMAT = 1;

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export interface DigestInputs {
  renderer: string;
  /** The application folder and the options that matter to this renderer. */
  options: unknown;
  /** The tool and its version (`kustomize v5.8.1`), or '' for plain folders. */
  tool: string;
  files: readonly ReadFile[];
}

export function renderDigest(inputs: DigestInputs): string {
  const files = [...inputs.files]
    .map((f) => [f.path, f.real, f.sha256] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const text = canonicalJson({
    format: RENDER_FORMAT,
    renderer: inputs.renderer,
    options: inputs.options,
    tool: inputs.tool,
    files,
  });
  return createHash('sha256').update(text).digest('hex');
}
