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

/** How the commands about Cairn's objects print: a table (wider with more columns), or the data. */
export const ViewFormat = { Table: 'table', Wide: 'wide', Json: 'json', Yaml: 'yaml' } as const;
export type ViewFormat = (typeof ViewFormat)[keyof typeof ViewFormat];

export function parseViewFormat(value: unknown): ViewFormat {
  if (value === undefined) return ViewFormat.Table;
  const formats = Object.values(ViewFormat) as string[];
  if (typeof value !== 'string' || !formats.includes(value))
    throw new UsageError(`-o must be one of ${formats.join(', ')}, got "${JSON.stringify(value)}"`);
  return value as ViewFormat;
}

/** One value as JSON or YAML, for -o json|yaml. */
export function formatData(value: unknown, format: 'json' | 'yaml'): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Colour for the words of a status, only when printing to a terminal. */
export function paint(word: string, color: boolean | undefined): string {
  if (!color) return word;
  const code = /^(Synced|Healthy|True|Succeeded|Normal)$/.test(word)
    ? 32
    : /^(OutOfSync|Progressing|Unknown|Suspended)$/.test(word)
      ? 33
      : /^(Degraded|Missing|False|Failed|Warning)$/.test(word)
        ? 31
        : undefined;
  return code === undefined ? word : `\x1b[${code}m${word}\x1b[0m`;
}
