import { stringify } from 'yaml';
import { UsageError } from './io.ts';

export const OutputFormat = { Yaml: 'yaml', Json: 'json' } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

export function parseOutputFormat(value: string | undefined, fallback: OutputFormat): OutputFormat {
  if (value === undefined) return fallback;
  const formats = Object.values(OutputFormat) as string[];
  if (!formats.includes(value))
    throw new UsageError(`-o must be one of ${formats.join(', ')}, got "${value}"`);
  return value as OutputFormat;
}

/** Objects as a YAML stream (`---` between documents) or as a JSON list. */
export function formatObjects(objects: readonly object[], format: OutputFormat): string {
  if (format === OutputFormat.Json)
    return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
