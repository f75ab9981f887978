// `cairn app tree`: the objects an Application applied, with health and sync, and the objects
// Kubernetes made from them (a Deployment's ReplicaSets and their Pods, ...).
import type { Application } from '../../api/types.ts';
import type { KubeClient } from '../../cluster/client.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import { childKindsOf, resourceTree, type TreeNode } from '../../inspect/index.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat } from '../output.ts';
import { getApplication, oneName, printView } from '../apps.ts';
import { treeText } from '../views.ts';

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** The applied objects that can have children, and their children, level by level (one list per kind and namespace). */
async function liveFamily(
  client: KubeClient,
  parents: readonly { apiVersion: string; kind: string; namespace?: string; name: string }[],
): Promise<KubeObject[]> {
  const live: KubeObject[] = [];
  let level = (
    await Promise.all(
      parents
        .filter((p) => childKindsOf(groupOf(p.apiVersion), p.kind).length > 0)
        .map((p) => client.getOptional(p)),
    )
  ).filter((o): o is KubeObject => o !== undefined);
  const listed = new Set<string>();
  while (level.length > 0) {
    live.push(...level);
    const wanted = new Map<string, { apiVersion: string; kind: string; namespace: string }>();
    for (const obj of level) {
      for (const child of childKindsOf(groupOf(obj.apiVersion), obj.kind)) {
        const namespace = obj.metadata.namespace ?? '';
        const id = `${child.apiVersion}/${child.kind}/${namespace}`;
        if (!listed.has(id)) wanted.set(id, { ...child, namespace });
      }
    }
    const lists = await Promise.all(
      [...wanted].map(async ([id, w]) => {
        listed.add(id);
        const list = await client.list(w.apiVersion, w.kind, w.namespace ? { namespace: w.namespace } : {});
        return list.items.map((o) => ({ ...o, apiVersion: w.apiVersion, kind: w.kind }));
      }),
    );
    level = lists.flat();
  }
  return live;
}

/** What `cairn app tree -o json` prints and the API's tree answers: one shape for both. */
export interface ApplicationTreeView {
  application: string;
  namespace: string;
  sync: string;
  health: string;
  resources: TreeNode[];
}

/** Reads the live objects an Application applied and their children, and builds its tree. */
export async function applicationTree(client: KubeClient, app: Application): Promise<ApplicationTreeView> {
  const resources = app.status?.resources ?? [];
  const live = await liveFamily(
    client,
    resources.map((r) => ({
      apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
      kind: r.kind,
      ...(r.namespace ? { namespace: r.namespace } : {}),
      name: r.name,
    })),
  );
  return {
    application: app.metadata.name ?? '',
    namespace: app.metadata.namespace ?? '',
    sync: app.status?.sync?.status ?? 'Unknown',
    health: app.status?.health?.status ?? 'Unknown',
    resources: resourceTree(resources, live),
  };
}

export const appTree: Command = {
  name: 'tree',
  completesNamesOf: 'app',
  summary: 'show the resource tree of an Application with health and sync per object',
  usage: 'cairn app tree NAME [-n NS] [-o table|json|yaml]',
  description:
    'What the Application applied (its status), and under each object the live objects whose ownerReferences name it.',
  examples: ['cairn app tree shop -n shop', 'cairn app tree shop -o json'],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await getApplication(client, namespace, name);
      const view = await applicationTree(client, app);
      printView(io, format, view, () => treeText(app, view.resources, { now: new Date(), color: io.color }));
      return ExitCode.Ok;
    });
  },
};
