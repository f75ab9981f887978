// Commands that change a cluster first make sure they can reach it, so a mistake in the
// kubeconfig costs one line of advice and nothing half done (no commit pushed, nothing deleted).
import type { KubeClient } from '../cluster/client.ts';

export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

export async function ensureReachable(client: KubeClient): Promise<void> {
  try {
    await client.request('GET', '/version', { subject: 'GET /version' });
  } catch (e) {
    const cause = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UnreachableError(
      `cannot reach the cluster at ${client.connection.server} (${cause}): check that it is running, or choose another with --kubeconfig or --context`,
      { cause: e },
    );
  }
}
