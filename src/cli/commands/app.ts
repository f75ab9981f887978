// `cairn app ...`: Applications as people see and steer them. Each subcommand gathers flags,
// reads or writes the Application, and prints; the controller does the syncing.
import { API_VERSION, type Application } from '../../api/types.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import { commandGroup, type Command } from '../command.ts';
import { ExitCode, UsageError, writeLine } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat } from '../output.ts';
import {
  applicationRef,
  durationMs,
  getApplication,
  listCommand,
  oneName,
  patchApplication,
  printView,
  setPin,
  reportWait,
  waitForApplication,
} from '../apps.ts';
import { applicationDetails, applicationTable, historyTable } from '../views.ts';
import { appDiff } from './app-diff.ts';
import { appRollback, appSync } from './app-sync.ts';
import { appTree } from './app-tree.ts';

const appList = listCommand<Application & KubeObject>({
  kind: 'Application',
  plural: 'Applications',
  summary: 'list Applications with their sync, health and revision',
  usage: 'cairn app list [-n NS | -A] [-o table|wide|json|yaml|name]',
  examples: ['cairn app list', 'cairn app list -A -o wide', 'cairn app list -n shop -o json'],
  table: applicationTable,
});

const appGet: Command = {
  name: 'get',
  completesNamesOf: 'app',
  summary: 'show an Application: source, policy, pin, revision, sync, health and its objects',
  usage: 'cairn app get NAME [-n NS] [-o table|wide|json|yaml]',
  examples: ['cairn app get shop -n shop', 'cairn app get shop -o yaml'],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await getApplication(client, namespace, name);
      printView(io, format, app, () =>
        applicationDetails(app, { now: new Date(), wide: format === 'wide', color: io.color }),
      );
      return ExitCode.Ok;
    });
  },
};

const appCreate: Command = {
  name: 'create',
  summary: 'create an Application (and, with --url, its GitRepository)',
  usage:
    'cairn app create NAME --source REPO [--url URL --branch B] [--path P] [--dest-namespace NS] [--automated [--prune] [--self-heal]] [-n NS]',
  description:
    'The Application follows the GitRepository REPO in its namespace; with --url the GitRepository is created too.\n' +
    'Without --automated the Application reports differences and applies only on "cairn app sync".',
  examples: [
    'cairn app create shop --source shop-repo --url https://git.example.com/shop.git --path deploy --automated --prune',
    'cairn app create web --source infra --path apps/web --dest-namespace web --create-namespace',
  ],
  options: {
    ...GLOBAL_OPTIONS,
    source: { type: 'string' },
    url: { type: 'string' },
    branch: { type: 'string' },
    path: { type: 'string' },
    'dest-namespace': { type: 'string' },
    renderer: { type: 'string' },
    automated: { type: 'boolean' },
    prune: { type: 'boolean' },
    'self-heal': { type: 'boolean' },
    'create-namespace': { type: 'boolean' },
    interval: { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    const repoName = values.source as string | undefined;
    if (!repoName) throw new UsageError('--source REPO (a GitRepository name) is required');
    if ((values.prune || values['self-heal']) && !values.automated)
      throw new UsageError('--prune and --self-heal go with --automated');
    const renderer = (values.renderer as string | undefined) ?? 'auto';
    if (!['auto', 'plain', 'kustomize', 'helm'].includes(renderer))
      throw new UsageError(`--renderer must be auto, plain, kustomize or helm, got "${renderer}"`);
    return withTarget(values, io, async ({ client, namespace }) => {
      const created: KubeObject[] = [];
      if (values.url) {
        created.push(
          await client.create({
            apiVersion: API_VERSION,
            kind: 'GitRepository',
            metadata: { name: repoName, namespace },
            spec: {
              url: values.url as string,
              ref: { branch: (values.branch as string | undefined) ?? 'main' },
              interval: '5m',
            },
          }),
        );
      } else if (values.branch) {
        throw new UsageError('--branch goes with --url');
      }
      const application = {
        apiVersion: API_VERSION,
        kind: 'Application',
        metadata: { name, namespace },
        spec: {
          source: {
            repositoryRef: { name: repoName },
            path: (values.path as string | undefined) ?? '.',
            renderer,
          },
          destination: { namespace: (values['dest-namespace'] as string | undefined) ?? namespace },
          interval: (values.interval as string | undefined) ?? '10m',
          ...(values.automated || values['create-namespace']
            ? {
                syncPolicy: {
                  ...(values.automated
                    ? { automated: { prune: Boolean(values.prune), selfHeal: Boolean(values['self-heal']) } }
                    : {}),
                  ...(values['create-namespace'] ? { createNamespace: true } : {}),
                },
              }
            : {}),
        },
      };
      created.push(await client.create(application));
      printView(io, format, { apiVersion: 'v1', kind: 'List', items: created }, () =>
        created.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name} created`).join('\n'),
      );
      return ExitCode.Ok;
    });
  },
};

const appDelete: Command = {
  name: 'delete',
  completesNamesOf: 'app',
  summary: 'delete an Application; the controller prunes its objects unless --orphan',
  usage: 'cairn app delete NAME [--orphan] [--wait [--timeout 5m]] [-n NS]',
  examples: ['cairn app delete shop -n shop --wait', 'cairn app delete legacy --orphan'],
  options: {
    ...GLOBAL_OPTIONS,
    orphan: { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    const timeoutMs = durationMs(values.timeout, '--timeout', 300_000);
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await getApplication(client, namespace, name);
      if (values.orphan) await patchApplication(client, app, { spec: { deletionPolicy: 'Orphan' } });
      await client.delete(applicationRef(namespace, name));
      let gone = !values.wait;
      if (values.wait) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (!(await client.getOptional(applicationRef(namespace, name)))) {
            gone = true;
            break;
          }
          if (io.interactive) writeLine(io.err, `waiting for ${name} to be deleted`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      const policy = values.orphan ? 'Orphan' : (app.spec.deletionPolicy ?? 'Delete');
      printView(io, format, { namespace, name, deletionPolicy: policy, deleted: gone }, () =>
        gone
          ? `Application/${namespace}/${name} deleted (${policy === 'Orphan' ? 'its objects were left in place' : 'its objects were pruned'})`
          : `Application/${namespace}/${name} deleting (${policy === 'Orphan' ? 'orphaning' : 'pruning'} its objects)`,
      );
      if (values.wait && !gone) {
        writeLine(
          io.err,
          `cairn app delete: ${name} still exists after ${(values.timeout as string | undefined) ?? '5m'} (is the controller running?)`,
        );
        return ExitCode.Failed;
      }
      return ExitCode.Ok;
    });
  },
};

const appWait: Command = {
  name: 'wait',
  completesNamesOf: 'app',
  summary: 'wait until an Application is Ready, Synced and Healthy',
  usage: 'cairn app wait NAME [--timeout 5m] [-n NS] [-o json|yaml]',
  description:
    'Exit code 0 once Ready, 1 when it fails (Stalled, Degraded, suspended) or the timeout passes.',
  examples: ['cairn app wait shop -n shop --timeout 2m'],
  options: { ...GLOBAL_OPTIONS, timeout: { type: 'string' } },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    const timeoutMs = durationMs(values.timeout, '--timeout', 300_000);
    return withTarget(values, io, async ({ client, namespace }) => {
      const outcome = await waitForApplication(client, namespace, name, { timeoutMs, healthy: true }, io);
      return reportWait(outcome, io, format, name);
    });
  },
};

const appHistory: Command = {
  name: 'history',
  completesNamesOf: 'app',
  summary: 'list the syncs of an Application, with the ids "cairn app rollback" takes',
  usage: 'cairn app history NAME [-n NS] [-o table|wide|json|yaml]',
  examples: ['cairn app history shop', 'cairn app history shop -o wide'],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await getApplication(client, namespace, name);
      const history = app.status?.history ?? [];
      printView(
        io,
        format,
        { application: name, namespace, pinnedRevision: app.spec.source.pinnedRevision ?? null, history },
        () =>
          history.length === 0
            ? `${name} has not synced yet.`
            : historyTable(app, { now: new Date(), wide: format === 'wide', color: io.color }),
      );
      return ExitCode.Ok;
    });
  },
};

const appSuspend: Command = {
  name: 'suspend',
  completesNamesOf: 'app',
  summary: 'stop reconciling an Application (nothing is applied or reported until resume)',
  usage: 'cairn app suspend NAME [-n NS]',
  examples: ['cairn app suspend shop -n shop'],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await patchApplication(client, await getApplication(client, namespace, name), {
        spec: { suspend: true },
      });
      printView(io, format, app, () => `${name} suspended (run "cairn app resume ${name}" to go on)`);
      return ExitCode.Ok;
    });
  },
};

const appResume: Command = {
  name: 'resume',
  completesNamesOf: 'app',
  summary: 'reconcile an Application again and follow its branch: clears a suspension and a pin',
  usage: 'cairn app resume NAME [-n NS]',
  examples: ['cairn app resume shop -n shop'],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      const before = await getApplication(client, namespace, name);
      await setPin(client, before, undefined);
      const app = await patchApplication(client, before, { spec: { suspend: null } });
      const unpinned = before.spec.source.pinnedRevision;
      printView(io, format, app, () =>
        unpinned && app.spec.source.pinnedRevision === undefined
          ? `${name} resumed; unpinned from ${unpinned.slice(0, 12)}: following the branch again`
          : app.spec.source.pinnedRevision
            ? `${name} resumed; still pinned to ${app.spec.source.pinnedRevision.slice(0, 12)} (the pin was not set by cairn)`
            : `${name} resumed`,
      );
      return ExitCode.Ok;
    });
  },
};

export const app = commandGroup(
  'app',
  'see and steer Applications: list, get, diff, sync, history, rollback, tree, ...',
  [
    appList,
    appGet,
    appCreate,
    appDelete,
    appDiff,
    appSync,
    appWait,
    appHistory,
    appRollback,
    appSuspend,
    appResume,
    appTree,
  ],
  ['cairn app list -A', 'cairn app sync shop -n shop', 'cairn app rollback shop 3'],
);
