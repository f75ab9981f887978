// `cairn app diff`: what a sync of an Application would change in the cluster, from its source at
// the branch head, at its pin, at --revision, or from a local folder (--local) for uncommitted work.
import { stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Application, GitRepository } from '../../api/types.ts';
import { diffApplication } from '../../apply/diff.ts';
import { MemoryInventoryStore } from '../../apply/inventory-store.ts';
import { FIELD_MANAGER, type KubeClient } from '../../cluster/client.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import { applicationLabels, applicationRenderRequest } from '../../controller/application.ts';
import { credentialsFrom } from '../../controller/git-repository.ts';
import { Renderer } from '../../render/renderer.ts';
import { SourceError, SourceErrorReason } from '../../source/errors.ts';
import { GitMirrors, defaultMirrorOptions, type Artifact } from '../../source/mirrors.ts';
import type { Command } from '../command.ts';
import { ExitCode, NotFoundError, UsageError, writeLine } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat } from '../output.ts';
import { getApplication, getRepository, oneName, printView, resolveRevision } from '../apps.ts';
import { refCandidates } from '../source.ts';

async function readSecret(client: KubeClient, namespace: string, name: string) {
  const secret = await client.getOptional<KubeObject & { data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace,
    name,
  });
  return Object.fromEntries(
    Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/** The Application's repository checked out at the commit a diff is about. */
export async function checkout(
  client: KubeClient,
  app: Application,
  repo: GitRepository,
  revision: string | undefined,
  options: { cacheDir?: string; allowHttp: boolean },
): Promise<Artifact> {
  const mirrors = new GitMirrors({
    ...defaultMirrorOptions(),
    ...(options.cacheDir ? { cacheDir: resolve(options.cacheDir, 'git') } : {}),
    allowHttp: options.allowHttp,
  });
  const secretRef = repo.spec.secretRef;
  const credentials = secretRef
    ? credentialsFrom(await readSecret(client, repo.metadata.namespace ?? '', secretRef.name))
    : undefined;
  const remote = { url: repo.spec.url, ...(credentials ? { credentials } : {}) };
  if (revision === undefined) {
    const commit = app.spec.source.pinnedRevision ?? repo.status?.artifact?.commit;
    if (!commit)
      throw new UsageError(
        `GitRepository ${repo.metadata.name} has no revision yet: give --revision or wait for "cairn source get ${repo.metadata.name}" to show one`,
      );
    return mirrors.fetch({ ...remote, ref: { commit } });
  }
  const known = /^[0-9a-f]{4,40}$/.test(revision) ? resolveRevision(app, revision) : undefined;
  const candidates = known ? [{ commit: known }] : refCandidates(revision);
  let lastError: unknown;
  for (const ref of candidates) {
    try {
      return await mirrors.fetch({ ...remote, ref });
    } catch (e) {
      lastError = e;
      if (!(e instanceof SourceError && e.reason === SourceErrorReason.RefNotFound)) throw e;
    }
  }
  // Tried as a branch and then as a tag: say so, not only what the last try found.
  if (candidates.length > 1)
    throw new NotFoundError(`--revision ${revision}: no branch or tag of that name in ${repo.spec.url}`);
  throw lastError;
}

/** The working copy `folder` is in: the nearest folder above it (or itself) holding `.git`. */
async function workingCopyRoot(folder: string): Promise<string | undefined> {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (await stat(join(dir, '.git')).catch(() => undefined)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The root to render from and the Application's path inside it, for `--local FOLDER`: the folder
 * is the Application's path in a working copy, whose root is given (--local-repo-root) or found
 * (the nearest `.git`), so an overlay's `../../base` resolves as it does in the repository.
 */
async function localSource(
  folder: string,
  repoRoot: string | undefined,
): Promise<{ root: string; path: string }> {
  if (!(await stat(folder).catch(() => undefined))?.isDirectory())
    throw new UsageError(`--local ${folder}: not a folder`);
  const root = repoRoot ?? (await workingCopyRoot(folder)) ?? folder;
  if (!(await stat(root).catch(() => undefined))?.isDirectory())
    throw new UsageError(`--local-repo-root ${root}: not a folder`);
  const path = relative(root, folder);
  if (path.startsWith('..') || path.startsWith(sep))
    throw new UsageError(`--local ${folder} is not inside --local-repo-root ${root}`);
  return { root, path: path === '' ? '.' : path.split(sep).join('/') };
}

/** What `cairn app diff -o json` prints and the API's diff answers: one shape for both. */
export interface ApplicationDiffView {
  application: string;
  namespace: string;
  revision: string;
  changed: boolean;
  objects: Awaited<ReturnType<typeof diffApplication>>['objects'];
}

/** Renders `root` as the controller would for this Application and diffs it against the cluster. */
export async function applicationDiff(
  client: KubeClient,
  app: Application,
  root: string,
  revision: string,
): Promise<ApplicationDiffView> {
  const result = await new Renderer({ cacheSize: 0 }).render(applicationRenderRequest(app, root));
  const inventory = app.status?.inventory;
  const name = app.metadata.name ?? '';
  const diff = await diffApplication(
    client,
    result.manifests,
    new MemoryInventoryStore({
      ...(inventory?.revision ? { revision: inventory.revision } : {}),
      entries: inventory?.entries ?? [],
    }),
    {
      application: name,
      namespace: app.spec.destination.namespace,
      prune: app.spec.syncPolicy?.automated?.prune ?? false,
      ignoreDifferences: app.spec.ignoreDifferences ?? [],
      fieldManager: FIELD_MANAGER,
      revision,
      labels: applicationLabels(app),
    },
  );
  return {
    application: name,
    namespace: app.metadata.namespace ?? '',
    revision,
    changed: diff.changed,
    objects: diff.objects,
  };
}

export const appDiff: Command = {
  name: 'diff',
  completesNamesOf: 'app',
  summary: 'show what a sync would change: the live objects against Git, a commit, or a local folder',
  usage:
    'cairn app diff NAME [--revision REF | --local PATH [--local-repo-root DIR]] [--allow-http] [-n NS] [-o json|yaml]',
  description:
    'Renders the Application as the controller does (its source path, renderer and Helm values) and compares a\n' +
    'server-side dry run with the live objects. By default the source is at the pinned commit or the branch head;\n' +
    "--revision takes a commit, branch or tag; --local renders a folder as the Application's path in a working copy\n" +
    'whose root is the nearest folder holding .git, or --local-repo-root (so ../base references resolve).\n' +
    'Secret values are redacted. Exit code 0 when nothing would change, 1 when something would.',
  examples: [
    'cairn app diff shop -n shop',
    'cairn app diff shop --local ./deploy/shop',
    'cairn app diff shop-production --local environments/staging   # what staging would change in production',
    'cairn app diff shop --revision 3f2a9c1e',
    'cairn app diff shop --revision release-1.4 -o json',
  ],
  options: {
    ...GLOBAL_OPTIONS,
    revision: { type: 'string' },
    local: { type: 'string' },
    'local-repo-root': { type: 'string' },
    'allow-http': { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    if (values.local !== undefined && values.revision !== undefined)
      throw new UsageError('give --local or --revision, not both');
    if (values['local-repo-root'] !== undefined && values.local === undefined)
      throw new UsageError('--local-repo-root goes with --local');
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await getApplication(client, namespace, name);
      let root: string;
      let revision: string;
      let rendered: Application = app;
      if (values.local !== undefined) {
        const repoRoot = values['local-repo-root'] as string | undefined;
        const local = await localSource(
          resolve(io.cwd, values.local as string),
          repoRoot === undefined ? undefined : resolve(io.cwd, repoRoot),
        );
        root = local.root;
        revision = 'local';
        rendered = { ...app, spec: { ...app.spec, source: { ...app.spec.source, path: local.path } } };
      } else {
        const ref = app.spec.source.repositoryRef;
        const repo = await getRepository(client, ref.namespace ?? namespace, ref.name);
        const artifact = await checkout(client, app, repo, values.revision as string | undefined, {
          ...(io.env.CAIRN_CACHE_DIR ? { cacheDir: io.env.CAIRN_CACHE_DIR } : {}),
          allowHttp: Boolean(values['allow-http']),
        });
        root = artifact.dir;
        revision = artifact.commit;
      }
      const diff = await applicationDiff(client, rendered, root, revision);
      const changed = diff.objects.filter((o) => o.change !== 'none');
      if (format === 'json' || format === 'yaml') printView(io, format, diff, () => '');
      else {
        for (const o of changed) io.out.write(o.patch.endsWith('\n') ? o.patch : `${o.patch}\n`);
        writeLine(
          io.err,
          changed.length === 0
            ? `${name}: no differences at ${revision.slice(0, 12)}`
            : `${name}: ${changed.length} of ${diff.objects.length} objects differ at ${revision.slice(0, 12)}`,
        );
      }
      return diff.changed ? ExitCode.Failed : ExitCode.Ok;
    });
  },
};
