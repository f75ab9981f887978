// `cairn server`: the web UI and its JSON API, for people, over the same engine the CLI uses.
import { readFile } from 'node:fs/promises';
import { API_VERSION, type Application } from '../../api/types.ts';
import type { KubeClient } from '../../cluster/client.ts';
import { SharedInformers } from '../../cluster/informer.ts';
import { jsonLogger } from '../../log.ts';
import { defaultOidcOptions, OidcClient } from '../../server/api/oidc.ts';
import { ADMIN_PASSWORD_KEY, hashPassword, sessionKeyFromSecret } from '../../server/api/identity.ts';
import { ApiServer, defaultApiServerOptions, defaultUiDir } from '../../server/api/server.ts';
import { VERSION } from '../../version.ts';
import { CLI_FIELD_MANAGER } from '../apps.ts';
import type { Command } from '../command.ts';
import { UsageError, writeLine, type CliIO } from '../io.ts';
import { connect } from '../kube.ts';

function listenAddress(value: string | undefined): { host?: string; port: number } {
  if (value === undefined) return { port: 8090 };
  const m = /^(?:(.*):)?(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--listen takes HOST:PORT or :PORT, got "${value}"`);
  return { ...(m[1] ? { host: m[1].replace(/^\[|\]$/g, '') } : {}), port: Number(m[2]) };
}

/** OpenID Connect login from the --oidc-* flags (named as kube-apiserver's); the secret from the environment. */
function oidcLogin(values: Record<string, unknown>, env: NodeJS.ProcessEnv, externalUrl: string): OidcClient {
  const clientId = values['oidc-client-id'] as string | undefined;
  const clientSecret = env.CAIRN_OIDC_CLIENT_SECRET;
  if (!clientId || !clientSecret)
    throw new UsageError(
      '--oidc-issuer needs --oidc-client-id and the client secret in $CAIRN_OIDC_CLIENT_SECRET',
    );
  if (!values['external-url'] && /:0$/.test(externalUrl))
    throw new UsageError(
      '--oidc-issuer needs --external-url (or a fixed --listen port) for the redirect address',
    );
  const defaults = defaultOidcOptions();
  return new OidcClient(
    {
      ...defaults,
      issuer: values['oidc-issuer'] as string,
      clientId,
      clientSecret,
      redirectUri: `${externalUrl}/api/oidc/callback`,
      usernameClaim: (values['oidc-username-claim'] as string | undefined) ?? defaults.usernameClaim,
      usernamePrefix: values['oidc-username-prefix'] as string | undefined,
      groupsClaim: values['oidc-groups-claim'] as string | undefined,
      groupsPrefix: (values['oidc-groups-prefix'] as string | undefined) ?? '',
    },
    Date.now,
  );
}

/** Reads a password from standard input and stores its scrypt hash in the admin Secret. */
async function setAdminPassword(
  client: KubeClient,
  namespace: string,
  values: Record<string, unknown>,
  io: CliIO,
): Promise<number> {
  try {
    if (process.stdin.isTTY)
      throw new UsageError('--set-admin-password reads the password from standard input: pipe it in');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password.length < 12) throw new UsageError('the admin password needs at least 12 characters');
    const name = (values['admin-secret'] as string | undefined) ?? 'cairn-admin';
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace },
        type: 'Opaque',
        stringData: { [ADMIN_PASSWORD_KEY]: await hashPassword(password) },
      },
      { fieldManager: CLI_FIELD_MANAGER, force: true },
    );
    writeLine(io.out, `admin password stored in Secret ${namespace}/${name} (its scrypt hash only)`);
    return 0;
  } finally {
    client.close();
  }
}

export const server: Command = {
  name: 'server',
  summary: 'serve the web UI and its JSON API: people see and steer Applications as RBAC allows them',
  usage:
    'cairn server [--listen HOST:PORT] [-n NS] [--admin-user USER --admin-group GROUP ...] [--badges] [--ui-dir DIR]',
  description:
    'Logs in with a Kubernetes bearer token (TokenReview), or as "admin" with the password whose scrypt hash is in\n' +
    'the Secret --admin-secret (key passwordHash) of namespace -n; admin then acts as --admin-user and --admin-group.\n' +
    'Every action is checked with a SubjectAccessReview for the person and written as them (impersonation): the\n' +
    'server needs create on tokenreviews and subjectaccessreviews, impersonate on users and groups, and list and\n' +
    'watch on Applications. Diffs read the GitRepository and dry-run as the server, or as --diff-as USER (in a\n' +
    "cluster, the controller's ServiceAccount). The OpenAPI description is at /api/openapi.json. Logs are JSON\n" +
    'lines on stderr.\n' +
    'OpenID Connect: --oidc-issuer, --oidc-client-id (secret in $CAIRN_OIDC_CLIENT_SECRET) and the claim flags of\n' +
    'kube-apiserver (--oidc-username-claim, --oidc-username-prefix, --oidc-groups-claim, --oidc-groups-prefix);\n' +
    'the provider redirects to --external-url + /api/oidc/callback.\n' +
    'Sessions are signed with a random key made at start, so a restart logs everyone out; --session-key-file reads\n' +
    'the key from a file, --session-key-secret NAME keeps it in a Secret of namespace -n (made when missing).',
  examples: [
    'cairn server --listen 127.0.0.1:8090 -n cairn-system --admin-user cairn:admin',
    'printf %s "$PASSWORD" | cairn server --set-admin-password -n cairn-system   # writes the Secret and exits',
    'cairn server --listen :8090 --badges --secure-cookies --session-key-file /etc/cairn/session-key',
  ],
  options: {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    listen: { type: 'string' },
    'ui-dir': { type: 'string' },
    'admin-secret': { type: 'string' },
    'set-admin-password': { type: 'boolean' },
    'admin-user': { type: 'string' },
    'admin-group': { type: 'string', multiple: true },
    badges: { type: 'boolean' },
    'secure-cookies': { type: 'boolean' },
    'session-key-file': { type: 'string' },
    'session-key-secret': { type: 'string' },
    'cache-dir': { type: 'string' },
    'allow-http-git': { type: 'boolean' },
    'diff-as': { type: 'string' },
    'external-url': { type: 'string' },
    'oidc-issuer': { type: 'string' },
    'oidc-client-id': { type: 'string' },
    'oidc-username-claim': { type: 'string' },
    'oidc-username-prefix': { type: 'string' },
    'oidc-groups-claim': { type: 'string' },
    'oidc-groups-prefix': { type: 'string' },
  },
  async run({ values }, io) {
    const logger = jsonLogger((line) => io.err.write(line), 'info', { component: 'server' });
    const { client, namespace } = await connect(
      { kubeconfig: values.kubeconfig, context: values.context, namespace: values.namespace },
      io,
    );
    if (values['set-admin-password']) return setAdminPassword(client, namespace, values, io);
    const listen = listenAddress(values.listen as string | undefined);
    const informers = new SharedInformers(client);
    const applications = informers.informerFor<Application>({ apiVersion: API_VERSION, kind: 'Application' });
    const defaults = defaultApiServerOptions();
    const keyFile = values['session-key-file'] as string | undefined;
    const keySecret = values['session-key-secret'] as string | undefined;
    if (keyFile && keySecret)
      throw new UsageError('give --session-key-file or --session-key-secret, not both');
    const adminUser = values['admin-user'] as string | undefined;
    const externalUrl = (
      (values['external-url'] as string | undefined) ?? `http://${listen.host ?? 'localhost'}:${listen.port}`
    ).replace(/\/$/, '');
    const oidc = values['oidc-issuer'] ? oidcLogin(values, io.env, externalUrl) : undefined;
    const api = new ApiServer(
      { client, applications, logger, now: Date.now, ...(oidc ? { oidc } : {}) },
      {
        ...defaults,
        port: listen.port,
        host: listen.host,
        version: VERSION,
        uiDir: (values['ui-dir'] as string | undefined) ?? (await defaultUiDir()),
        ...(keyFile
          ? { sessionKey: await readFile(keyFile) }
          : keySecret
            ? { sessionKey: await sessionKeyFromSecret(client, namespace, keySecret) }
            : {}),
        secureCookies: Boolean(values['secure-cookies']),
        admin: adminUser
          ? {
              namespace,
              secretName: (values['admin-secret'] as string | undefined) ?? 'cairn-admin',
              person: { user: adminUser, groups: (values['admin-group'] as string[] | undefined) ?? [] },
            }
          : undefined,
        badges: Boolean(values.badges),
        gitCacheDir: values['cache-dir'] as string | undefined,
        allowHttpGit: Boolean(values['allow-http-git']),
        diffAs: values['diff-as'] as string | undefined,
      },
    );
    await applications.start();
    await api.start();
    logger.info('listening', { url: `http://${listen.host ?? 'localhost'}:${api.port}/` });
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await stopped;
    await api.stop();
    await informers.stop();
    client.close();
    return 0;
  },
};
