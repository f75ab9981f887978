import { describeRef } from '../../cluster/objects.ts';
import { defaultUninstallOptions, uninstall as removeCairn } from '../../install/uninstall.ts';
import type { Command } from '../command.ts';
import { writeLine } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';
import { ensureReachable } from '../reach.ts';

export const uninstall: Command = {
  name: 'uninstall',
  summary: 'remove Cairn from a cluster: the controller, its RBAC, its namespace and (unless kept) its CRDs',
  usage: 'cairn uninstall [--namespace cairn-system] [--keep-crds] [--force] [--dry-run]',
  description:
    'Deletes what cairn install and cairn bootstrap created, in reverse install order. The objects your\n' +
    'Applications applied are never deleted.\n' +
    'Deleting the CRDs deletes every Application and GitRepository in the cluster, so while Applications\n' +
    'exist uninstall refuses and lists them (exit code 1). Then either delete them first (their objects are\n' +
    'pruned as their deletionPolicy says), or:\n' +
    "  --keep-crds  keep the CRDs and the Applications outside Cairn's namespace (a later install resumes them)\n" +
    '  --force      remove the Applications as well; what they applied stays in the cluster, unmanaged\n' +
    'The Application that bootstrap created to keep Cairn itself in sync never blocks: it is removed with Cairn.',
  examples: ['cairn uninstall --dry-run', 'cairn uninstall --keep-crds', 'cairn uninstall --force'],
  options: {
    ...KUBE_OPTIONS,
    'keep-crds': { type: 'boolean' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  async run({ values }, io) {
    const defaults = defaultUninstallOptions();
    const options = {
      namespace: (values.namespace as string | undefined) ?? defaults.namespace,
      keepCrds: Boolean(values['keep-crds']),
      force: Boolean(values.force),
      dryRun: Boolean(values['dry-run']),
    };
    return withTarget({ ...values, namespace: undefined }, io, async ({ client }) => {
      await ensureReachable(client);
      const result = await removeCairn(client, options, (ref, outcome) =>
        writeLine(io.out, `${describeRef(ref)} ${outcome}`),
      );
      if (!result.done) {
        const names = result.plan.blocking.map((r) => `${r.namespace}/${r.name}`);
        if (names.length > 5) names.splice(5, names.length - 5, `and ${names.length - 5} more`);
        writeLine(
          io.err,
          `cairn uninstall: ${result.plan.blocking.length} Application(s) would be deleted with Cairn: ${names.join(', ')}; ` +
            'delete them first, or run again with --keep-crds (keep them) or --force (remove them, leave what they applied)',
        );
        return 1;
      }
      return 0;
    });
  },
};
