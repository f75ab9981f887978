// `cairn app sync` and `cairn app rollback`: ask the controller to apply now, at the branch head
// or at a pinned commit, and wait until it has.
import type { Application } from '../../api/types.ts';
import type { KubeClient } from '../../cluster/client.ts';
import type { Command } from '../command.ts';
import { NotFoundError, UsageError, writeLine, type CliIO } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat, type ViewFormat } from '../output.ts';
import { checkout } from './app-diff.ts';
import {
  durationMs,
  getApplication,
  getRepository,
  oneName,
  resolveRevision,
  requestReconcile,
  setPin,
  reportWait,
  waitForApplication,
} from '../apps.ts';

const WAIT_OPTIONS = {
  async: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/** The commit `--revision` names: from the history (a SHA or its start), else a branch or tag now. */
async function pinnable(
  client: KubeClient,
  app: Application,
  revision: string,
  io: CliIO,
  allowHttp: boolean,
): Promise<string> {
  if (/^[0-9a-f]{4,40}$/.test(revision)) return resolveRevision(app, revision);
  const ref = app.spec.source.repositoryRef;
  const repo = await getRepository(client, ref.namespace ?? app.metadata.namespace ?? '', ref.name);
  const artifact = await checkout(client, app, repo, revision, {
    ...(io.env.CAIRN_CACHE_DIR ? { cacheDir: io.env.CAIRN_CACHE_DIR } : {}),
    allowHttp,
  });
  return artifact.commit;
}

/** Asks for a reconcile, then waits (unless --async) and reports. */
async function syncAndReport(
  client: KubeClient,
  app: Application,
  values: Record<string, unknown>,
  io: CliIO,
  format: ViewFormat,
  what: string,
): Promise<number> {
  const name = app.metadata.name ?? '';
  const namespace = app.metadata.namespace ?? '';
  const request = await requestReconcile(client, app);
  if (values.async) {
    writeLine(io.err, `${name}: reconcile requested at ${request}`);
    return 0;
  }
  const outcome = await waitForApplication(
    client,
    namespace,
    name,
    { timeoutMs: durationMs(values.timeout, '--timeout', 300_000), request, healthy: true },
    io,
  );
  return reportWait(outcome, io, format, what);
}

export const appSync: Command = {
  name: 'sync',
  completesNamesOf: 'app',
  summary: 'apply an Application now (even without automated sync) and wait until it is healthy',
  usage: 'cairn app sync NAME [--revision REF|HEAD] [--allow-http] [--async] [--timeout 5m] [-n NS]',
  description:
    'Asks the controller for a reconcile (the annotation reconcile.cairn.dev/requestedAt) and waits until it\n' +
    'has handled that request and the Application is Ready, Synced and Healthy.\n' +
    '--revision pins a commit (as rollback does): a SHA, the start of one in the history, or a branch or tag,\n' +
    'resolved to its commit now; --revision HEAD removes a pin and follows the branch.\n' +
    'Exit code 0 when synced and healthy, 1 when the sync failed, the objects are not healthy, or the timeout passed.',
  examples: [
    'cairn app sync shop -n shop',
    'cairn app sync shop --revision HEAD',
    'cairn app sync shop --revision 3f2a9c1 --timeout 2m',
    'cairn app sync shop --revision release-1.4',
    'cairn app sync shop --async',
  ],
  options: {
    ...GLOBAL_OPTIONS,
    revision: { type: 'string' },
    'allow-http': { type: 'boolean' },
    ...WAIT_OPTIONS,
  },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      let app = await getApplication(client, namespace, name);
      if (app.spec.suspend) throw new Error(`${name} is suspended: run "cairn app resume ${name}" first`);
      const revision = values.revision as string | undefined;
      if (revision === 'HEAD' || revision === 'head') {
        const had = app.spec.source.pinnedRevision;
        app = await setPin(client, app, undefined);
        if (had) writeLine(io.err, `${name}: unpinned from ${had.slice(0, 12)}, following the branch`);
      } else if (revision !== undefined) {
        const commit = await pinnable(client, app, revision, io, Boolean(values['allow-http']));
        app = await setPin(client, app, commit);
        writeLine(
          io.err,
          `${name}: pinned to ${commit.slice(0, 12)}; automated sync holds it until "cairn app resume ${name}"`,
        );
      }
      return await syncAndReport(client, app, values, io, format, name);
    });
  },
};

export const appRollback: Command = {
  name: 'rollback',
  completesNamesOf: 'app',
  summary: 'apply the revision of an earlier sync and pin it, even with automated sync on',
  usage: 'cairn app rollback NAME ID [--async] [--timeout 5m] [-n NS]',
  description:
    'ID is an entry of "cairn app history NAME". The pin (spec.source.pinnedRevision, owned by the field manager\n' +
    'cairn-cli) survives a parent Application re-applying this one from Git. "cairn app resume NAME" or\n' +
    '"cairn app sync NAME --revision HEAD" follows the branch again.',
  examples: ['cairn app history shop', 'cairn app rollback shop 3', 'cairn app rollback shop 3 --async'],
  options: { ...GLOBAL_OPTIONS, ...WAIT_OPTIONS },
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    if (positionals.length !== 2) throw new UsageError('give NAME and a history ID');
    const [name, idText] = positionals as [string, string];
    const id = Number(idText);
    if (!Number.isInteger(id) || id < 1)
      throw new UsageError(`ID must be a history id such as 3, got "${idText}"`);
    return withTarget(values, io, async ({ client, namespace }) => {
      const app = await getApplication(client, namespace, name);
      if (app.spec.suspend) throw new Error(`${name} is suspended: run "cairn app resume ${name}" first`);
      const entry = app.status?.history?.find((h) => h.id === id);
      if (!entry)
        throw new NotFoundError(
          `${name} has no history entry ${id} (run "cairn app history ${name}" for the ids)`,
        );
      const pinned = await setPin(client, app, entry.revision);
      writeLine(
        io.err,
        `${name}: rolling back to #${id} (${entry.revision.slice(0, 12)}); pinned: automated sync holds this commit until "cairn app resume ${name}"`,
      );
      return await syncAndReport(client, pinned, values, io, format, `${name} rolled back to #${id}, pinned`);
    });
  },
};
