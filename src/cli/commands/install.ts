import { installManifests, defaultInstallOptions } from '../../api/install.ts';
import { waitForHealthy } from '../../apply/wait.ts';
import { describeRef, refOf } from '../../cluster/objects.ts';
import type { Command } from '../command.ts';
import { writeLine } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';

export const install: Command = {
  name: 'install',
  summary: 'install or upgrade Cairn in a cluster: CRDs, RBAC, the controller Deployment',
  usage:
    'cairn install [--namespace cairn-system] [--image IMAGE] [--with-ui [--admin-user USER]] [--dry-run] [--wait]',
  description:
    'Applies the manifests of deploy/install.yaml (generated from code) with server-side apply.\n' +
    'The controller is bound to the ClusterRole cairn-apply, which may change every kind: applying arbitrary\n' +
    'manifests from Git needs it. Build and push the image first (see the Dockerfile) and name it with --image.\n' +
    '--with-ui adds deploy/server.yaml: cairn server (the web UI and its API) with its ServiceAccount, the\n' +
    'ClusterRole cairn-server and the Service cairn-server; the local admin acts as --admin-user (cairn:admin).',
  examples: [
    'cairn install --image registry.example.com/cairn:0.1.0 --wait',
    'cairn install --image registry.example.com/cairn:0.1.0 --with-ui --wait',
    'cairn install --dry-run',
  ],
  options: {
    ...KUBE_OPTIONS,
    image: { type: 'string' },
    'with-ui': { type: 'boolean' },
    'admin-user': { type: 'string' },
    'dry-run': { type: 'boolean' },
    wait: { type: 'boolean' },
  },
  async run({ values }, io) {
    const defaults = defaultInstallOptions();
    const namespace = (values.namespace as string | undefined) ?? defaults.namespace;
    const manifests = installManifests({
      namespace,
      image: (values.image as string | undefined) ?? defaults.image,
      server: Boolean(values['with-ui']),
      adminUser: (values['admin-user'] as string | undefined) ?? defaults.adminUser,
    });
    const dryRun = Boolean(values['dry-run']);
    return withTarget({ ...values, namespace: undefined }, io, async ({ client }) => {
      for (const obj of manifests) {
        await client.apply(obj, { fieldManager: 'cairn-install', dryRun });
        writeLine(io.out, `${describeRef(refOf(obj))} ${dryRun ? 'accepted (dry run)' : 'applied'}`);
        if (obj.kind === 'CustomResourceDefinition' && !dryRun) {
          await waitForHealthy(client, [refOf(obj)], { timeoutMs: 60_000, intervalMs: 250 });
        }
      }
      client.discovery.invalidate();
      if (values.wait && !dryRun) {
        writeLine(io.err, 'waiting for the controller to be available...');
        await waitForHealthy(
          client,
          ['cairn-controller', ...(values['with-ui'] ? ['cairn-server'] : [])].map((name) => ({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            namespace,
            name,
          })),
          { timeoutMs: 300_000, intervalMs: 1000 },
        );
        writeLine(io.out, `cairn ${defaults.image.split(':')[1] ?? ''} is running in namespace ${namespace}`);
      }
      return 0;
    });
  },
};
