import { diffApplication } from '../../apply/diff.ts';
import { ConfigMapInventoryStore } from '../../apply/inventory-store.ts';
import { FIELD_MANAGER } from '../../cluster/client.ts';
import type { Command } from '../command.ts';
import { writeLine } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';
import { formatObjects, parseOutputFormat } from '../output.ts';
import { SOURCE_OPTIONS, defaultAppName, loadSource, renderSource } from '../source.ts';

export const diff: Command = {
  name: 'diff',
  summary: 'show what apply would change in the cluster, from a server-side dry run',
  usage: 'cairn diff PATH | --repo URL --revision REF --path P  [--app NAME] [-n NS] [--prune] [--exit-code]',
  description:
    'Objects the plan finds unchanged cost no request; the others are dry-run applied and compared with the live objects,\n' +
    'ignoring what the server owns (managedFields, resourceVersion, status, ...). Secret values are always redacted.\n' +
    'With --exit-code: 0 when nothing would change, 1 when something would, 3 on errors.',
  examples: [
    'cairn diff examples/guestbook -n guestbook',
    'cairn diff overlays/production --app shop -n shop --exit-code',
  ],
  options: {
    ...SOURCE_OPTIONS,
    ...KUBE_OPTIONS,
    app: { type: 'string' },
    prune: { type: 'boolean' },
    'exit-code': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  async run({ values, positionals }, io) {
    const format = values.output === undefined ? 'text' : parseOutputFormat(values.output as string, 'yaml');
    try {
      const source = await loadSource(values, positionals, io);
      return await withTarget(values, io, async ({ client, namespace }) => {
        const application = (values.app as string | undefined) ?? defaultAppName(source);
        const rendered = await renderSource(source, values, { releaseName: application, namespace });
        const result = await diffApplication(
          client,
          rendered.manifests,
          new ConfigMapInventoryStore(client, application, namespace),
          {
            application,
            namespace,
            prune: Boolean(values.prune),
            ignoreDifferences: [],
            fieldManager: FIELD_MANAGER,
            revision: source.revision,
          },
        );
        const changed = result.objects.filter((o) => o.change !== 'none');
        if (format === 'text') {
          for (const o of changed) io.out.write(o.patch.endsWith('\n') ? o.patch : `${o.patch}\n`);
          writeLine(
            io.err,
            changed.length === 0
              ? `${application}: no differences`
              : `${application}: ${changed.length} of ${result.objects.length} objects differ`,
          );
        } else {
          io.out.write(
            formatObjects(
              [{ application, revision: source.revision, changed: result.changed, objects: result.objects }],
              format,
            ),
          );
        }
        return values['exit-code'] && result.changed ? 1 : 0;
      });
    } catch (e) {
      if (!values['exit-code']) throw e;
      writeLine(io.err, `cairn diff: ${e instanceof Error ? e.message : String(e)}`);
      return 3;
    }
  },
};
