import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/** Everything needed to reach one API server as one identity. */
export interface ClusterConnection {
  server: string;
  /** PEM bundle that signs the server's certificate; the system roots when absent. */
  ca?: string;
  clientCertificate?: string;
  clientKey?: string;
  token?: string;
  /** A token file read again every minute (projected ServiceAccount tokens rotate). */
  tokenFile?: string;
  insecureSkipTlsVerify?: boolean;
  /** Where the connection came from, for error messages. */
  origin: string;
}

export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

interface RawKubeconfig {
  'current-context'?: string;
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> | null }[];
  contexts?: { name: string; context: { cluster: string; user?: string; namespace?: string } }[];
}

export interface LoadedKubeconfig {
  connection: ClusterConnection;
  context: string;
  /** The context's default namespace, if it names one. */
  namespace?: string;
}

/** Reads a kubeconfig file the way kubectl does for one context (the current one by default). */
export async function loadKubeconfig(path: string, contextName?: string): Promise<LoadedKubeconfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new KubeconfigError(`${path}: cannot read kubeconfig`, { cause });
  }
  const raw = parse(text) as RawKubeconfig | null;
  if (!raw || typeof raw !== 'object')
    throw new KubeconfigError(`${path}: not a kubeconfig (empty or not a mapping)`);
  const base = dirname(path);
  const name = contextName ?? raw['current-context'];
  if (!name) throw new KubeconfigError(`${path}: no context given and no current-context set`);
  const context = named<{ cluster: string; user?: string; namespace?: string }>(
    raw.contexts,
    name,
    path,
    'context',
  );
  const cluster = named<Record<string, unknown>>(raw.clusters, context.cluster, path, 'cluster');
  const user = context.user ? named<Record<string, unknown>>(raw.users, context.user, path, 'user') : {};

  const connection: ClusterConnection = {
    server: stringField(cluster, 'server', path) ?? '',
    origin: `${path} (context ${name})`,
  };
  if (!connection.server) throw new KubeconfigError(`${path}: cluster ${context.cluster} has no server`);
  connection.ca = await pem(cluster, 'certificate-authority', base, path);
  connection.clientCertificate = await pem(user, 'client-certificate', base, path);
  connection.clientKey = await pem(user, 'client-key', base, path);
  const token = stringField(user, 'token', path);
  const tokenFile = stringField(user, 'tokenFile', path);
  if (token) connection.token = token;
  else if (tokenFile) connection.token = (await readFile(resolve(base, tokenFile), 'utf8')).trim();
  if (cluster['insecure-skip-tls-verify'] === true) connection.insecureSkipTlsVerify = true;
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError(
      `${path}: user ${context.user}: exec and auth-provider credentials are not supported yet`,
    );
  }
  return context.namespace
    ? { connection, context: name, namespace: context.namespace }
    : { connection, context: name };
}

function named<T>(list: { name: string }[] | undefined, name: string, path: string, what: string): T {
  const entry = list?.find((e) => e.name === name) as Record<string, unknown> | undefined;
  if (!entry) throw new KubeconfigError(`${path}: ${what} "${name}" not found`);
  return (entry[what] ?? {}) as T;
}

function stringField(obj: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeconfigError(`${path}: field ${key} must be a string`);
  return v;
}

/** A credential given inline as `<key>-data` (base64) or as a file path `<key>`. */
async function pem(
  obj: Record<string, unknown>,
  key: string,
  base: string,
  path: string,
): Promise<string | undefined> {
  const data = stringField(obj, `${key}-data`, path);
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  const file = stringField(obj, key, path);
  if (!file) return undefined;
  try {
    return await readFile(resolve(base, file), 'utf8');
  } catch (cause) {
    throw new KubeconfigError(`${path}: ${key} ${file} cannot be read`, { cause });
  }
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The connection of a process running in a pod: its ServiceAccount token and the cluster CA. */
export async function inClusterConnection(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedKubeconfig | undefined> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ca = await readFile(`${SERVICE_ACCOUNT}/ca.crt`, 'utf8');
  const namespace = (await readFile(`${SERVICE_ACCOUNT}/namespace`, 'utf8').catch(() => 'default')).trim();
  return {
    connection: { server, ca, tokenFile: `${SERVICE_ACCOUNT}/token`, origin: 'in-cluster ServiceAccount' },
    context: 'in-cluster',
    namespace,
  };
}
