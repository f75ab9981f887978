// `cairn events`: the Kubernetes Events about Cairn's objects (syncs, drift, prunes, failures).
import { GROUP } from '../../api/types.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import type { Command } from '../command.ts';
import { ExitCode, UsageError } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat } from '../output.ts';
import { namespaceScope, printView } from '../apps.ts';
import { eventRow, eventTable } from '../views.ts';

type Event = KubeObject & { involvedObject?: { apiVersion?: string; kind?: string; name?: string } };

export const events: Command = {
  name: 'events',
  summary: "show the Events of Cairn's objects: syncs, drift, prunes and failures",
  usage:
    'cairn events [KIND/NAME] [--app NAME] [--type Normal|Warning] [-n NS | -A] [-o table|wide|json|yaml]',
  examples: [
    'cairn events -n shop',
    'cairn events --app shop --type Warning',
    'cairn events GitRepository/shop-repo',
    'cairn events -A -o json',
  ],
  options: { ...GLOBAL_OPTIONS, app: { type: 'string' }, type: { type: 'string' } },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    if (positionals.length > 1) throw new UsageError('give at most one KIND/NAME');
    let kind: string | undefined;
    let name: string | undefined;
    if (positionals[0] !== undefined) {
      const m = /^([A-Za-z]+)\/([^/]+)$/.exec(positionals[0]);
      if (!m) throw new UsageError(`give KIND/NAME such as Application/shop, got "${positionals[0]}"`);
      [kind, name] = [m[1]!, m[2]!];
    }
    if (values.app !== undefined) {
      if (kind !== undefined) throw new UsageError('give KIND/NAME or --app, not both');
      [kind, name] = ['Application', values.app as string];
    }
    const type = values.type as string | undefined;
    if (type !== undefined && type !== 'Normal' && type !== 'Warning')
      throw new UsageError(`--type must be Normal or Warning, got "${type}"`);
    return withTarget(values, io, async ({ client, namespace }) => {
      const list = await client.list<Event>('v1', 'Event', {
        ...(namespaceScope(values, namespace) ? { namespace } : {}),
        ...(type ? { fieldSelector: `type=${type}` } : {}),
      });
      const ours = list.items
        .filter((e) => (e.involvedObject?.apiVersion ?? '').startsWith(`${GROUP}/`))
        .filter((e) => !kind || e.involvedObject?.kind?.toLowerCase() === kind.toLowerCase())
        .filter((e) => !name || e.involvedObject?.name === name)
        .map((e) => ({ ...e, apiVersion: 'v1', kind: 'Event' }));
      const rows = ours
        .map((e) => ({ event: e, row: eventRow(e) }))
        .sort((a, b) => (a.row.lastSeen ?? '').localeCompare(b.row.lastSeen ?? ''));
      printView(io, format, { apiVersion: 'v1', kind: 'List', items: rows.map((r) => r.event) }, () =>
        rows.length === 0
          ? 'No Events about Cairn objects.'
          : eventTable(
              rows.map((r) => r.row),
              { now: new Date(), allNamespaces: Boolean(values['all-namespaces']), color: io.color },
            ),
      );
      return ExitCode.Ok;
    });
  },
};
