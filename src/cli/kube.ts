// The cluster a command talks to: --kubeconfig, $KUBECONFIG or ~/.kube/config, and --context.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../cluster/client.ts';
import { loadKubeconfig } from '../cluster/kubeconfig.ts';
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
  const file =
    (values.kubeconfig as string | undefined) ??
    io.env.KUBECONFIG?.split(':').find(Boolean) ??
    join(homedir(), '.kube', 'config');
  const loaded = await loadKubeconfig(file, values.context as string | undefined);
  return {
    client: new KubeClient(loaded.connection),
    namespace: (values.namespace as string | undefined) ?? loaded.namespace ?? 'default',
  };
}
