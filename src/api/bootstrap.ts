// What `cairn bootstrap` writes into a repository: the install manifests and a GitRepository and
// Application that keep them (and everything else under the cluster's folder) in sync. Pure.
import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/objects.ts';
import { defaultInstallOptions, installManifests, type InstallOptions } from './install.ts';
import { API_VERSION } from './types.ts';

/** Label on the objects that make Cairn manage itself; `cairn uninstall` removes them without asking. */
export const SELF_MANAGED_LABEL = 'cairn.dev/self-managed';

export interface BootstrapOptions extends InstallOptions {
  url: string;
  branch: string;
  /** The cluster's folder in the repository, e.g. `clusters/production`. */
  path: string;
  /** Name of the GitRepository and the Application. */
  name: string;
  /** How often the GitRepository looks for new commits. */
  interval: string;
  /** Secret holding the Git credentials, when the repository needs some. */
  secretName?: string;
}

export function defaultBootstrapOptions(): Omit<BootstrapOptions, 'url' | 'branch' | 'path'> {
  return { ...defaultInstallOptions(), name: 'cairn', interval: '1m' };
}

/** The folder (inside the cluster's folder) that holds Cairn's own manifests. */
export function bootstrapFolder(o: Pick<BootstrapOptions, 'path' | 'namespace'>): string {
  return `${normalisePath(o.path)}/${o.namespace}`;
}

export function normalisePath(path: string): string {
  return path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}

/** The GitRepository and Application that make Cairn follow the cluster's folder, itself included. */
export function syncManifests(o: BootstrapOptions): KubeObject[] {
  const labels = { 'app.kubernetes.io/part-of': 'cairn', [SELF_MANAGED_LABEL]: 'true' };
  return [
    {
      apiVersion: API_VERSION,
      kind: 'GitRepository',
      metadata: { name: o.name, namespace: o.namespace, labels },
      spec: {
        url: o.url,
        ref: { branch: o.branch },
        interval: o.interval,
        ...(o.secretName ? { secretRef: { name: o.secretName } } : {}),
      },
    },
    {
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { name: o.name, namespace: o.namespace, labels },
      spec: {
        source: { repositoryRef: { name: o.name }, path: normalisePath(o.path) },
        destination: { namespace: o.namespace },
        interval: '10m',
        syncPolicy: { automated: { prune: true, selfHeal: true } },
        // Deleting this Application must never uninstall Cairn or what it runs.
        deletionPolicy: 'Orphan',
      },
    },
  ];
}

const HEADER = (what: string) =>
  `# ${what}\n# Written by cairn bootstrap; running it again rewrites this file.\n`;

function yamlStream(header: string, objects: readonly KubeObject[]): string {
  return header + objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

/** The files bootstrap commits, in the order it writes them. */
export function bootstrapFiles(o: BootstrapOptions): { path: string; content: string }[] {
  const folder = bootstrapFolder(o);
  return [
    {
      path: `${folder}/install.yaml`,
      content: yamlStream(HEADER("Cairn's CRDs, RBAC and controller."), installManifests(o)),
    },
    {
      path: `${folder}/sync.yaml`,
      content: yamlStream(
        HEADER(`Cairn keeps ${normalisePath(o.path)} (this folder included) in sync with ${o.branch}.`),
        syncManifests(o),
      ),
    },
  ];
}
