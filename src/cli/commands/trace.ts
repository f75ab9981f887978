// `cairn trace KIND/NAMESPACE/NAME`: which Application, source and commit manage a live object,
// from its tracking labels and that Application's status.
import { API_VERSION, type Application, type GitRepository } from '../../api/types.ts';
import type { KubeClient } from '../../cluster/client.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import { trackingOf, traceObject } from '../../inspect/index.ts';
import { TRACKING_LABEL } from '../../plan/metadata.ts';
import type { Command } from '../command.ts';
import { ExitCode, NotFoundError, UsageError } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat } from '../output.ts';
import { applicationRef, printView, repositoryRef } from '../apps.ts';
import { traceText } from '../views.ts';

interface Resolved {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/** A kind as people type it (Deployment, deployment, deployments, deployments.apps) to its apiVersion and kind. */
async function resolveKind(client: KubeClient, typed: string): Promise<Resolved> {
  const [word = '', ...groupParts] = typed.toLowerCase().split('.');
  const group = groupParts.join('.');
  const core = await client.request<{ versions: string[] }>('GET', '/api');
  const groups = await client.request<{
    groups: { name: string; preferredVersion: { groupVersion: string } }[];
  }>('GET', '/apis');
  const versions = [
    ...(group === '' || group === 'core' ? core.versions.map((v) => v) : []),
    ...groups.groups.filter((g) => !group || g.name === group).map((g) => g.preferredVersion.groupVersion),
  ];
  for (const apiVersion of versions) {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await client
      .request<{
        resources: {
          name: string;
          singularName?: string;
          kind: string;
          namespaced: boolean;
          shortNames?: string[];
        }[];
      }>('GET', path)
      .catch(() => ({ resources: [] }));
    const found = list.resources.find(
      (r) =>
        !r.name.includes('/') &&
        (r.kind.toLowerCase() === word ||
          r.name === word ||
          r.singularName === word ||
          (r.shortNames ?? []).includes(word)),
    );
    if (found) return { apiVersion, kind: found.kind, namespaced: found.namespaced };
  }
  throw new NotFoundError(
    `the cluster serves no kind "${typed}" (try the kind as "kubectl api-resources" lists it)`,
  );
}

export const trace: Command = {
  name: 'trace',
  summary: 'show which Application, source and commit manage a live object',
  usage: 'cairn trace KIND/NAMESPACE/NAME | KIND/NAME [-n NS] [-o table|json|yaml]',
  description:
    'Reads the tracking labels (app.cairn.dev/application, app.cairn.dev/application-namespace) of the object,\n' +
    'then the Application and its GitRepository. Exit code 1 when the object is not managed by Cairn.',
  examples: [
    'cairn trace Deployment/shop/cart',
    'cairn trace deployment/cart -n shop',
    'cairn trace ClusterRole/shop-reader -o json',
  ],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    if (positionals.length !== 1) throw new UsageError('give one KIND/NAMESPACE/NAME');
    const parts = positionals[0]!.split('/');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === ''))
      throw new UsageError(`give KIND/NAMESPACE/NAME or KIND/NAME, got "${positionals[0]}"`);
    return withTarget(values, io, async ({ client, namespace }) => {
      const kind = await resolveKind(client, parts[0]!);
      const objectNamespace = parts.length === 3 ? parts[1]! : kind.namespaced ? namespace : undefined;
      const name = parts.at(-1)!;
      const ref = {
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        name,
        ...(kind.namespaced && objectNamespace ? { namespace: objectNamespace } : {}),
      };
      const described = `${kind.kind}/${objectNamespace && kind.namespaced ? `${objectNamespace}/` : ''}${name}`;
      const obj = await client.getOptional<KubeObject>(ref);
      if (!obj) throw new NotFoundError(`${described} not found (check the kind, namespace and name)`);
      const owner = trackingOf(obj);
      if (!owner)
        throw new NotFoundError(`${described} is not managed by Cairn: it has no ${TRACKING_LABEL} label`);
      const app = await client.getOptional<Application & KubeObject>(
        applicationRef(owner.namespace, owner.name),
      );
      const source = app?.spec.source.repositoryRef;
      const repo = source
        ? await client
            .getOptional<GitRepository & KubeObject>(
              repositoryRef(source.namespace ?? owner.namespace, source.name),
            )
            .catch(() => undefined)
        : undefined;
      const result = traceObject(
        { ...obj, apiVersion: kind.apiVersion, kind: kind.kind },
        app ? { ...app, apiVersion: API_VERSION, kind: 'Application' } : undefined,
        repo,
      )!;
      printView(io, format, result, () => traceText(result, { now: new Date(), color: io.color }));
      return app ? ExitCode.Ok : ExitCode.Failed;
    });
  },
};
