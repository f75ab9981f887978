import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { defaultBootstrapOptions } from '../../api/bootstrap.ts';
import { describeRef } from '../../cluster/objects.ts';
import { parseDuration } from '../../controller/durations.ts';
import {
  bootstrapGit as bootstrapFromGit,
  ObjectResult,
  type BootstrapResult,
} from '../../install/bootstrap.ts';
import type { GitCredentials } from '../../source/credentials.ts';
import { defaultPublishOptions } from '../../source/publish.ts';
import { commandGroup, type Command } from '../command.ts';
import { UsageError, writeLine, type CliIO } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';
import { parseOutputFormat } from '../output.ts';
import { ensureReachable } from '../reach.ts';

async function credentialsFrom(
  values: Record<string, unknown>,
  io: CliIO,
): Promise<GitCredentials | undefined> {
  const username = values.username as string | undefined;
  const password = (values.password as string | undefined) ?? io.env.CAIRN_GIT_PASSWORD;
  const keyFile = values['private-key-file'] as string | undefined;
  const knownHostsFile = values['known-hosts-file'] as string | undefined;
  if (keyFile && (username || values.password))
    throw new UsageError('give either --username/--password or --private-key-file, not both');
  if (keyFile) {
    if (!knownHostsFile)
      throw new UsageError('--private-key-file needs --known-hosts-file (e.g. from ssh-keyscan HOST)');
    const read = (file: string, flag: string) =>
      readFile(file, 'utf8').catch((e: unknown) => {
        throw new UsageError(`${flag} ${file}: ${(e as Error).message}`);
      });
    return {
      kind: 'ssh',
      privateKey: await read(keyFile, '--private-key-file'),
      knownHosts: await read(knownHostsFile, '--known-hosts-file'),
    };
  }
  if (password !== undefined && !username) throw new UsageError('--password needs --username');
  if (username) {
    if (password === undefined)
      throw new UsageError('--username needs --password (or the CAIRN_GIT_PASSWORD variable)');
    return { kind: 'basic', username, password };
  }
  return undefined;
}

function summary(result: BootstrapResult): string {
  const counts = Object.values(ObjectResult)
    .map((r) => [r, result.objects.filter((o) => o.result === r).length] as const)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${n} ${r}`)
    .join(', ');
  const short = result.commit.slice(0, 12);
  return [
    result.committed
      ? `committed ${short} to ${result.branch}: ${result.files
          .filter((f) => f.changed)
          .map((f) => f.path)
          .join(', ')}`
      : `nothing to commit: ${result.branch} already holds ${result.path} at ${short}`,
    `objects: ${counts}`,
    `Application ${result.application.namespace}/${result.application.name} is Ready at ${short}`,
  ].join('\n');
}

export const bootstrapGit: Command = {
  name: 'git',
  summary: 'install Cairn from a Git repository and make it keep itself (and that repository path) in sync',
  usage:
    'cairn bootstrap git --url URL --branch BRANCH --path clusters/NAME [--username U --password P | --private-key-file F --known-hosts-file F] [-o json]',
  description:
    'Writes the install manifests and a GitRepository and Application for PATH into PATH/<namespace>/ of the\n' +
    'repository, commits and pushes them (nothing is committed when the branch already holds them), applies\n' +
    'them with server-side apply (objects already as committed are not written), and waits until the\n' +
    'Application is Ready at the pushed commit. Everything else committed under PATH is applied too.\n' +
    'Credentials are stored in the Secret cairn-git-credentials, never in Git; the password may come from\n' +
    'the CAIRN_GIT_PASSWORD variable instead of --password. --allow-http permits plain http:// URLs.',
  examples: [
    'cairn bootstrap git --url https://git.example.com/fleet.git --branch main --path clusters/production --username cairn',
    'cairn bootstrap git --url ssh://git@git.example.com/fleet.git --branch main --path clusters/dev --private-key-file ~/.ssh/cairn --known-hosts-file known_hosts',
  ],
  options: {
    ...KUBE_OPTIONS,
    url: { type: 'string' },
    branch: { type: 'string' },
    path: { type: 'string' },
    image: { type: 'string' },
    interval: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    'private-key-file': { type: 'string' },
    'known-hosts-file': { type: 'string' },
    'allow-http': { type: 'boolean' },
    timeout: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const format = values.output === undefined ? 'text' : parseOutputFormat(values.output as string, 'json');
    const missing = ['url', 'branch', 'path'].filter((f) => !values[f]);
    if (missing.length > 0) throw new UsageError(missing.map((f) => `--${f}`).join(', ') + ' required');
    const path = values.path as string;
    if (path.split('/').some((p) => p === '..') || path.startsWith('/'))
      throw new UsageError(`--path ${path}: give a folder inside the repository, e.g. clusters/production`);
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration((values.timeout as string | undefined) ?? '5m');
      if (values.interval) parseDuration(values.interval as string);
    } catch (e) {
      throw new UsageError(
        `--timeout and --interval take durations such as 90s or 5m: ${(e as Error).message}`,
      );
    }
    const credentials = await credentialsFrom(values, io);
    const defaults = defaultBootstrapOptions();
    return withTarget({ ...values, namespace: undefined }, io, async ({ client }) => {
      await ensureReachable(client);
      const result = await bootstrapFromGit(client, {
        manifests: {
          ...defaults,
          namespace: (values.namespace as string | undefined) ?? defaults.namespace,
          image: (values.image as string | undefined) ?? defaults.image,
          interval: (values.interval as string | undefined) ?? defaults.interval,
          url: values.url as string,
          branch: values.branch as string,
          path,
        },
        ...(credentials ? { credentials } : {}),
        allowHttp: Boolean(values['allow-http']),
        timeoutMs,
        intervalMs: 1000,
        progress: (line) => {
          if (io.interactive) writeLine(io.err, `► ${line}`);
        },
        publish: { ...defaultPublishOptions(), env: io.env },
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      });
      const data = {
        ...result,
        objects: result.objects.map((o) => ({ object: describeRef(o.ref), result: o.result })),
      };
      if (format === 'json') writeLine(io.out, JSON.stringify(data, null, 2));
      else if (format === 'yaml') io.out.write(stringify(data, { lineWidth: 0 }));
      else writeLine(io.out, summary(result));
      return 0;
    });
  },
};

export const bootstrap: Command = commandGroup(
  'bootstrap',
  'install Cairn so that it keeps itself in sync with a Git repository',
  [bootstrapGit],
  [
    'cairn bootstrap git --url https://git.example.com/fleet.git --branch main --path clusters/production --username cairn',
  ],
);
