import { randomUUID } from 'node:crypto';
import { ConfigMapInventoryStore } from '../../apply/inventory-store.ts';
import { defaultSyncOptions, syncObjects, type SyncEvent, type SyncResult } from '../../apply/sync.ts';
import { describeRef } from '../../cluster/objects.ts';
import type { Command } from '../command.ts';
import { UsageError, writeLine } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';
import { formatObjects, parseOutputFormat } from '../output.ts';
import { SOURCE_OPTIONS, defaultAppName, loadSource, renderSource } from '../source.ts';
import { formatTable } from '../table.ts';

function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d+)(s|m)?$/.exec(value);
  if (!m) throw new UsageError(`${flag} takes a duration such as 90s or 5m, got "${value}"`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1) * 1000;
}

export function resultTable(result: SyncResult): string {
  return formatTable(
    ['kind', 'namespace', 'name', 'action', 'result', 'reason'],
    result.objects.map((o) => [
      o.ref.kind,
      o.ref.namespace ?? '',
      o.ref.name,
      o.action,
      o.outcome,
      o.error ?? o.reason,
    ]),
  );
}

export const apply: Command = {
  name: 'apply',
  summary: 'render and server-side apply an application once, with waves, hooks and prune',
  usage:
    'cairn apply PATH | --repo URL --revision REF --path P  [--app NAME] [-n NS] [--prune] [--wait] [--dry-run]',
  description:
    'Applies with the field manager "cairn", forcing conflicts: Git is the authority for the fields it sets.\n' +
    'The inventory (what was applied, for --prune) is kept in the ConfigMap cairn-inventory-APP in the namespace.\n' +
    'A second apply of unchanged input writes nothing. Exit code 0 when the sync succeeded, 1 when it failed.',
  examples: [
    'cairn apply examples/guestbook -n guestbook --create-namespace --wait',
    'cairn apply overlays/production --app shop -n shop --prune',
    'cairn apply charts/shop --dry-run -o yaml',
  ],
  options: {
    ...SOURCE_OPTIONS,
    ...KUBE_OPTIONS,
    app: { type: 'string' },
    prune: { type: 'boolean' },
    wait: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'create-namespace': { type: 'boolean' },
    hooks: { type: 'boolean' },
    timeout: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run({ values, positionals }, io) {
    const format = values.output === undefined ? 'table' : parseOutputFormat(values.output as string, 'yaml');
    const source = await loadSource(values, positionals, io);
    return withTarget(values, io, async ({ client, namespace }) => {
      const application = (values.app as string | undefined) ?? defaultAppName(source);
      const rendered = await renderSource(source, values, { releaseName: application, namespace });
      const options = defaultSyncOptions(application, namespace);
      const progress = (e: SyncEvent) => {
        if (e.type === 'stage') writeLine(io.err, `${e.name}: ${e.count} objects`);
        else if (e.type === 'health' && e.health.status !== 'Healthy')
          writeLine(
            io.err,
            `waiting for ${describeRef(e.ref)}: ${e.health.status}${e.health.message ? `: ${e.health.message}` : ''}`,
          );
        else if (e.type === 'hook')
          writeLine(
            io.err,
            `${e.result.phase} hook ${e.result.ref.kind}/${e.result.name}: ${e.result.message}`,
          );
      };
      const result = await syncObjects(
        client,
        rendered.manifests,
        new ConfigMapInventoryStore(client, application, namespace),
        {
          ...options,
          revision: source.revision,
          deployment: { id: randomUUID(), commit: source.revision, timestamp: new Date().toISOString() },
          prune: Boolean(values.prune),
          wait: Boolean(values.wait),
          dryRun: Boolean(values['dry-run']),
          createNamespace: Boolean(values['create-namespace']),
          hooks: values.hooks ? 'always' : 'auto',
          health: {
            ...options.health,
            timeoutMs: seconds(values.timeout as string | undefined, '--timeout', options.health.timeoutMs),
          },
        },
        progress,
      );
      if (format === 'table') {
        if (result.objects.length > 0) writeLine(io.out, resultTable(result));
        const count = (outcome: string) => result.objects.filter((o) => o.outcome === outcome).length;
        const summary = `${result.dryRun ? 'dry run of ' : ''}${application} at ${source.revision.slice(0, 12)}: ${count('applied') + count('dry-run')} applied, ${count('unchanged')} unchanged, ${count('pruned')} pruned`;
        writeLine(
          io.out,
          `\n${summary}${result.ok ? '' : `; FAILED at ${result.failedAt}`}${values.wait && result.ok ? `; health ${result.health.status}` : ''}`,
        );
        if (!result.ok) writeLine(io.err, `error: ${result.error}`);
      } else {
        io.out.write(formatObjects([result], format));
      }
      return result.ok ? 0 : 1;
    });
  },
};
