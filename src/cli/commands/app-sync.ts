// `cairn app sync` and `cairn app rollback`: ask the controller to apply now, at the branch head
// or at a pinned commit, and wait until it has.
import type { Application } from '../../api/types.ts';
import type { KubeClient } from '../../cluster/client.ts';
import type { Command } from '../command.ts';
import { NotFoundError, UsageError, writeLine, type CliIO } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat, type ViewFormat } from '../output.ts';
import {
  durationMs,
  getApplication,
  oneName,
  requestReconcile,
  setPin,
  reportWait,
  waitForApplication,
} from '../apps.ts';

const WAIT_OPTIONS = {
  async: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/** A commit a person names: a full SHA, or the start of one the Application has seen. */
export function resolveRevision(app: Application, revision: string): string {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  if (!/^[0-9a-f]{4,39}$/.test(revision))
    throw new UsageError(`--revision takes a commit SHA (or HEAD to follow the branch), got "${revision}"`);
  const known = new Set(
    [
      ...(app.status?.history ?? []).map((h) => h.revision),
      app.status?.sync?.revision,
      app.status?.lastAttemptedRevision,
    ].filter((r): r is string => !!r && /^[0-9a-f]{40}$/.test(r)),
  );
  const matches = [...known].filter((r) => r.startsWith(revision));
  if (matches.length !== 1)
    throw new UsageError(
      `--revision ${revision} ${matches.length === 0 ? 'matches no commit in the history' : 'is ambiguous'}: give the full commit SHA`,
    );
  return matches[0]!;
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
  usage: 'cairn app sync NAME [--revision SHA|HEAD] [--async] [--timeout 5m] [-n NS]',
  description:
    'Asks the controller for a reconcile (the annotation reconcile.cairn.dev/requestedAt) and waits until it\n' +
    'has handled that request and the Application is Ready, Synced and Healthy.\n' +
    '--revision SHA pins that commit (as rollback does); --revision HEAD removes a pin and follows the branch.\n' +
    'Exit code 0 when synced and healthy, 1 when the sync failed, the objects are not healthy, or the timeout passed.',
  examples: [
    'cairn app sync shop -n shop',
    'cairn app sync shop --revision HEAD',
    'cairn app sync shop --revision 3f2a9c1 --timeout 2m',
    'cairn app sync shop --async',
  ],
  options: { ...GLOBAL_OPTIONS, revision: { type: 'string' }, ...WAIT_OPTIONS },
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
        const commit = resolveRevision(app, revision);
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
