// The cluster a command talks to: --kubeconfig, $KUBECONFIG or ~/.kube/config, and --context.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../cluster/client.ts';
import { inClusterConnection, loadKubeconfig } from '../cluster/kubeconfig.ts';
import type { OptionSpec } from './command.ts';
import type { CliIO } from './io.ts';

export const KUBE_OPTIONS: OptionSpec = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
};

export interface KubeTarget {
  client: KubeClient;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
}

export async function connect(values: Record<string, unknown>, io: CliIO): Promise<KubeTarget> {
  const explicit = (values.kubeconfig as string | undefined) ?? io.env.KUBECONFIG?.split(':').find(Boolean);
  const file = explicit ?? join(homedir(), '.kube', 'config');
  // In a pod without a kubeconfig, use the pod's ServiceAccount.
  const inCluster = !explicit && !existsSync(file) ? await inClusterConnection(io.env) : undefined;
  const loaded = inCluster ?? (await loadKubeconfig(file, values.context as string | undefined));
  return {
    client: new KubeClient(loaded.connection),
    namespace: (values.namespace as string | undefined) ?? loaded.namespace ?? 'default',
  };
}

/** Connects, hands the client and namespace to `work`, and closes the client however it ends. */
export async function withTarget<T>(
  values: Record<string, unknown>,
  io: CliIO,
  work: (target: KubeTarget) => Promise<T>,
): Promise<T> {
  const target = await connect(values, io);
  try {
    return await work(target);
  } finally {
    target.client.close();
  }
}

/** The flags of every command about Cairn's objects: the cluster, the namespace or all, the output. */
export const GLOBAL_OPTIONS: OptionSpec = {
  ...KUBE_OPTIONS,
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
};
