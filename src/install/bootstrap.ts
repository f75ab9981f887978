// `cairn bootstrap git`: commit the install and sync manifests to a repository, apply them, and
// wait until Cairn reports itself Ready at that commit. A second run changes nothing: the files
// are compared before any commit, each object is compared (server-side dry run) before any write.
import { bootstrapFiles, normalisePath, syncManifests, type BootstrapOptions } from '../api/bootstrap.ts';
import { installManifests } from '../api/install.ts';
import { API_VERSION, REQUESTED_AT_ANNOTATION, type Application, type GitRepository } from '../api/types.ts';
import { FIELD_MANAGER, type KubeClient } from '../cluster/client.ts';
import { describeRef, refOf, type KubeObject, type ObjectRef } from '../cluster/objects.ts';
import { APPLICATION_NAMESPACE_LABEL } from '../controller/application.ts';
import { canonicalJson } from '../plan/digest.ts';
import { DORA, TRACKING_ANNOTATION, TRACKING_LABEL } from '../plan/metadata.ts';
import type { GitCredentials } from '../source/credentials.ts';
import { publishFiles, type PublishOptions } from '../source/publish.ts';
import { parseGitUrl } from '../source/url.ts';

export const ObjectResult = { Created: 'created', Configured: 'configured', Unchanged: 'unchanged' } as const;
export type ObjectResult = (typeof ObjectResult)[keyof typeof ObjectResult];

export interface BootstrapGitOptions {
  manifests: BootstrapOptions;
  credentials?: GitCredentials;
  allowHttp: boolean;
  timeoutMs: number;
  intervalMs: number;
  /** Progress lines for a person; the caller decides whether anyone sees them. */
  progress: (line: string) => void;
  publish: Pick<PublishOptions, 'author' | 'git' | 'env'>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface BootstrapResult {
  url: string;
  branch: string;
  path: string;
  commit: string;
  committed: boolean;
  files: { path: string; changed: boolean }[];
  objects: { ref: ObjectRef; result: ObjectResult }[];
  application: { namespace: string; name: string; revision: string; ready: boolean; message: string };
}

export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

/** Name of the Secret holding the Git credentials bootstrap was given (never committed). */
export const CREDENTIALS_SECRET = 'cairn-git-credentials';

export function credentialsSecret(namespace: string, credentials: GitCredentials): KubeObject {
  const data: Record<string, string> =
    credentials.kind === 'basic'
      ? { username: credentials.username, password: credentials.password }
      : { identity: credentials.privateKey, known_hosts: credentials.knownHosts };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: CREDENTIALS_SECRET, namespace, labels: { 'app.kubernetes.io/part-of': 'cairn' } },
    type: 'Opaque',
    stringData: data,
  };
}

/**
 * The object as the controller will apply it for the self-managing Application: its tracking
 * label and annotation, and the deployment annotations it already carries, so that bootstrap and
 * controller write the same intent under the one field manager and neither undoes the other.
 */
export function asAppliedBy(
  obj: KubeObject,
  application: { namespace: string; name: string },
  live: KubeObject | undefined,
): KubeObject {
  const ref = refOf(obj);
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
  const dora: Record<string, string> = {};
  for (const key of Object.values(DORA)) {
    const v = live?.metadata.annotations?.[key];
    if (v !== undefined) dora[key] = v;
  }
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      labels: {
        ...obj.metadata.labels,
        [APPLICATION_NAMESPACE_LABEL]: application.namespace,
        [TRACKING_LABEL]: application.name,
      },
      annotations: {
        ...obj.metadata.annotations,
        [TRACKING_ANNOTATION]: `${application.name}:${group}/${ref.kind}:${ref.namespace ?? ''}/${ref.name}`,
        ...dora,
      },
    },
  };
}

/** The object without what the API server keeps for itself; two of these compare equal when nothing would change. */
function comparable(obj: KubeObject): string {
  const { managedFields: _m, resourceVersion: _r, ...metadata } = obj.metadata;
  return canonicalJson({ ...obj, metadata });
}

/** Applies one object unless a server-side dry run shows the live object would stay as it is. */
async function applyIfChanged(
  client: KubeClient,
  obj: KubeObject,
  live: KubeObject | undefined,
): Promise<ObjectResult> {
  if (live) {
    const preview = await client.apply(obj, { fieldManager: FIELD_MANAGER, dryRun: true });
    if (comparable(preview) === comparable(live)) return ObjectResult.Unchanged;
  }
  await client.apply(obj, { fieldManager: FIELD_MANAGER });
  return live ? ObjectResult.Configured : ObjectResult.Created;
}

async function waitUntil<T>(
  options: BootstrapGitOptions,
  what: string,
  probe: () => Promise<T | undefined>,
  describe: () => string,
): Promise<T> {
  const deadline = options.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (options.now() > deadline)
      throw new BootstrapError(
        `timed out after ${options.timeoutMs / 1000} s waiting for ${what}: ${describe()}`,
      );
    await options.sleep(options.intervalMs);
  }
}

/** Commits, applies, waits. Throws BootstrapError (or the API server's error) on failure. */
export async function bootstrapGit(
  client: KubeClient,
  options: BootstrapGitOptions,
): Promise<BootstrapResult> {
  const o = options.manifests;
  let display: string;
  try {
    const url = parseGitUrl(o.url, { allowHttp: options.allowHttp, allowFile: false });
    if (url.embedded)
      throw new BootstrapError(
        `${url.display}: credentials in the URL would be committed; give them with --username and --password`,
      );
    display = url.display;
  } catch (e) {
    if (e instanceof BootstrapError) throw e;
    throw new BootstrapError(`--url ${o.url}: ${(e as Error).message}`, { cause: e });
  }
  const manifests: BootstrapOptions = options.credentials ? { ...o, secretName: CREDENTIALS_SECRET } : o;
  const files = bootstrapFiles(manifests);

  options.progress(`writing ${files.map((f) => f.path).join(', ')} to ${display} (${o.branch})`);
  const published = await publishFiles(files, {
    ...options.publish,
    url: o.url,
    branch: o.branch,
    allowHttp: options.allowHttp,
    message: `Cairn ${o.image} for ${normalisePath(manifests.path)}`,
    timeoutMs: Math.min(options.timeoutMs, 120_000),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  options.progress(
    published.committed
      ? `pushed ${published.commit.slice(0, 12)} (${published.changed.join(', ')})`
      : `${o.branch} already holds these files at ${published.commit.slice(0, 12)}: nothing to commit`,
  );

  const app = { namespace: o.namespace, name: o.name };
  const secret = options.credentials ? credentialsSecret(o.namespace, options.credentials) : undefined;
  const objects: { obj: KubeObject; tracked: boolean }[] = [
    ...installManifests(manifests).map((obj) => ({ obj, tracked: true })),
    ...(secret ? [{ obj: secret, tracked: false }] : []),
    ...syncManifests(manifests).map((obj) => ({ obj, tracked: true })),
  ];
  const applied: BootstrapResult['objects'] = [];
  for (const { obj, tracked } of objects) {
    const ref = refOf(obj);
    const live = await client.getOptional(ref);
    const result = await applyIfChanged(client, tracked ? asAppliedBy(obj, app, live) : obj, live);
    applied.push({ ref, result });
    if (result !== ObjectResult.Unchanged) options.progress(`${describeRef(ref)} ${result}`);
    if (obj.kind === 'CustomResourceDefinition') {
      await waitUntil(
        options,
        `${describeRef(ref)} to be established`,
        async () => {
          const crd = await client.get<
            KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
          >(ref);
          return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
            ? true
            : undefined;
        },
        () => 'not established yet',
      );
      client.discovery.invalidate();
    }
  }
  const written = applied.filter((a) => a.result !== ObjectResult.Unchanged).length;
  if (written === 0) options.progress('every object in the cluster is already as committed');

  const repoRef = { apiVersion: API_VERSION, kind: 'GitRepository', namespace: o.namespace, name: o.name };
  const appRef = { apiVersion: API_VERSION, kind: 'Application', namespace: o.namespace, name: o.name };
  if (published.committed) {
    // Fetch now rather than at the next interval.
    const repo = await client.getOptional<GitRepository & KubeObject>(repoRef);
    if (repo?.status?.artifact && repo.status.artifact.commit !== published.commit) {
      await client.request('PATCH', await client.pathFor(repoRef), {
        body: {
          metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: new Date(options.now()).toISOString() } },
        },
        contentType: 'application/merge-patch+json',
        subject: describeRef(repoRef),
      });
    }
  }

  let last = '';
  let current: (Application & KubeObject) | undefined;
  const state = () => {
    const ready = current?.status?.conditions?.find((c) => c.type === 'Ready');
    return ready
      ? `Ready=${ready.status} ${ready.reason}: ${ready.message}`
      : 'no status yet (is the controller running?)';
  };
  const application = await waitUntil(
    options,
    `Application ${o.namespace}/${o.name} to be Ready at ${published.commit.slice(0, 12)}`,
    async () => {
      current = await client.getOptional<Application & KubeObject>(appRef);
      const line = state();
      if (line !== last) {
        last = line;
        options.progress(`Application ${o.name}: ${line}`);
      }
      const ready = current?.status?.conditions?.find((c) => c.type === 'Ready');
      const atCommit = current?.status?.sync?.revision === published.commit;
      const fresh =
        ready?.observedGeneration === undefined ||
        ready.observedGeneration >= (current?.metadata.generation ?? 0);
      return current && ready?.status === 'True' && atCommit && fresh ? current : undefined;
    },
    state,
  );
  return {
    url: display,
    branch: o.branch,
    path: normalisePath(manifests.path),
    commit: published.commit,
    committed: published.committed,
    files: files.map((f) => ({ path: f.path, changed: published.changed.includes(f.path) })),
    objects: applied,
    application: {
      namespace: o.namespace,
      name: o.name,
      revision: application.status?.sync?.revision ?? '',
      ready: true,
      message: application.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
    },
  };
}
