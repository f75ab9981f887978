import { ConfigMapInventoryStore } from '../../apply/inventory-store.ts';
import { describeRef } from '../../cluster/objects.ts';
import { aggregateHealth, healthOf } from '../../health/registry.ts';
import { parseKey } from '../../plan/inventory.ts';
import type { Command } from '../command.ts';
import { UsageError, writeLine } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';
import { formatObjects, parseOutputFormat } from '../output.ts';
import { formatTable } from '../table.ts';

export const status: Command = {
  name: 'status',
  summary: 'show the health of every object an application applied',
  usage: 'cairn status --app NAME [-n NS] [-o json|yaml]',
  description:
    'Reads the inventory that cairn apply keeps and the live objects; exit code 1 unless every object is Healthy.',
  examples: ['cairn status --app guestbook -n guestbook'],
  options: { ...KUBE_OPTIONS, app: { type: 'string' }, output: { type: 'string', short: 'o' } },
  async run({ values }, io) {
    const application = values.app as string | undefined;
    if (!application) throw new UsageError('--app is required');
    const format = values.output === undefined ? 'table' : parseOutputFormat(values.output as string, 'yaml');
    return withTarget(values, io, async ({ client, namespace }) => {
      const inventory = await new ConfigMapInventoryStore(client, application, namespace).load();
      if (inventory.entries.length === 0) {
        writeLine(io.err, `${application}: nothing applied in namespace ${namespace}`);
        return 1;
      }
      const rows = await Promise.all(
        inventory.entries.map(async (e) => {
          const { kind, namespace: ns, name } = parseKey(e.key);
          const ref = { apiVersion: e.apiVersion, kind, name, ...(ns ? { namespace: ns } : {}) };
          return { ref, health: healthOf(await client.getOptional(ref)) };
        }),
      );
      const overall = aggregateHealth(rows.map((r) => ({ name: describeRef(r.ref), health: r.health })));
      if (format === 'table') {
        writeLine(
          io.out,
          formatTable(
            ['kind', 'namespace', 'name', 'health', 'message'],
            rows.map((r) => [
              r.ref.kind,
              r.ref.namespace ?? '',
              r.ref.name,
              r.health.status,
              r.health.message ?? '',
            ]),
          ),
        );
        writeLine(
          io.out,
          `\n${application} at ${inventory.revision?.slice(0, 12) ?? 'unknown revision'}: ${overall.status}${overall.status === 'Healthy' ? '' : ` (${overall.message ?? ''})`}`,
        );
      } else {
        io.out.write(
          formatObjects(
            [{ application, revision: inventory.revision, health: overall, objects: rows }],
            format,
          ),
        );
      }
      return overall.status === 'Healthy' ? 0 : 1;
    });
  },
};
