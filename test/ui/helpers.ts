// Helpers for the UI and API tests: `cairn server` as its own process, people bound to one
// namespace with RBAC, and their tokens from the TokenRequest API.
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { API_VERSION } from '../../src/api/types.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import { ADMIN_PASSWORD_KEY, hashPassword } from '../../src/server/api/identity.ts';
import { uniqueName } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

export interface RunningServer {
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

/** Starts `cairn server` on a free port; stopped when the test ends. */
export async function startServer(
  t: TestContext,
  kubeconfig: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin', 'cairn.js'), 'server', '--listen', '127.0.0.1:0', '--allow-http-git', ...args],
    { env: { ...process.env, ...env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const logs: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.after(stop);
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'listening' && entry.url) resolve(entry.url.replace(/\/$/, ''));
        } catch {
          // not JSON: kept in logs
        }
      }
    });
    void exited.then(() => reject(new Error(`cairn server exited: ${logs.join('\n')}`)));
  });
  return { url, logs, stop };
}

/**
 * A person who may see and steer Applications in one namespace only: a ServiceAccount there with
 * a Role over Applications and GitRepositories, and reading the objects they apply. Returns its
 * token (TokenRequest) and Kubernetes username.
 */
export async function namespaceMember(
  client: KubeClient,
  namespace: string,
): Promise<{ token: string; user: string }> {
  const name = uniqueName('member');
  await client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace },
    rules: [
      {
        apiGroups: ['cairn.dev'],
        resources: ['applications', 'gitrepositories'],
        verbs: ['get', 'list', 'watch', 'patch'],
      },
      { apiGroups: ['', 'apps'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  });
  const request = await client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  return { token: request.status.token, user: `system:serviceaccount:${namespace}:${name}` };
}

/** The local admin's Secret in a namespace, with this password; admin acts as `user`, bound to cluster-admin. */
export async function localAdmin(
  t: TestContext,
  client: KubeClient,
  namespace: string,
  password: string,
): Promise<string> {
  const user = uniqueName('cairn-admin');
  await client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cairn-admin', namespace },
    stringData: { [ADMIN_PASSWORD_KEY]: await hashPassword(password) },
  });
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: user },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
  });
  t.after(async () => {
    await client
      .delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: user })
      .catch(() => {});
  });
  return user;
}

/** An Application object (no controller needed for what the API reads and writes). */
export function application(namespace: string, name: string, extra: Record<string, string> = {}) {
  return {
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name, namespace, annotations: extra },
    spec: {
      source: { repositoryRef: { name: 'repo' }, path: '.' },
      destination: { namespace },
      interval: '1h',
    },
  };
}

/** fetch with JSON, a bearer token or a cookie jar of one cookie. */
export async function api<T>(
  base: string,
  path: string,
  init: { method?: string; token?: string; cookie?: string; csrf?: string; body?: unknown } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
      ...(init.cookie ? { Cookie: init.cookie } : {}),
      ...(init.csrf ? { 'X-CSRF-Token': init.csrf } : {}),
      ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export interface AuditEvent {
  verb?: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  requestURI?: string;
  objectRef?: { namespace?: string; name?: string; resource?: string };
  responseStatus?: { code?: number };
}

/** The audit events written after `offset` bytes of the log. */
export async function auditSince(file: string, offset: number): Promise<AuditEvent[]> {
  const handle = await open(file);
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as AuditEvent);
  } finally {
    await handle.close();
  }
}

/** Builds the UI into dist/ui when it is missing or older than its sources (npm test builds it first). */
export async function ensureUiBuilt(): Promise<void> {
  const { globSync, statSync, existsSync } = await import('node:fs');
  const index = join(REPO_ROOT, 'dist', 'ui', 'index.html');
  const sources = globSync('ui/**/*.{ts,tsx,css,html}', { cwd: REPO_ROOT }).map(
    (f) => statSync(join(REPO_ROOT, f)).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...sources)) return;
  const { execFileSync } = await import('node:child_process');
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'ui/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
}

/** Debian's Chromium, headless, through playwright-core; closed when the test ends. */
export async function launchBrowser(t: TestContext) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  t.after(() => browser.close());
  return browser;
}

/** Where screenshots go (gitignored); kept after the run. */
export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
