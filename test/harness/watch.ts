// Records watch events of several collections, ordered by resourceVersion (etcd's revision is one
// sequence across all kinds), so tests can check the order things happened in without clocks.
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';

export interface RecordedEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: string;
  name: string;
  revision: number;
  object: KubeObject;
}

export interface Recorder {
  events: RecordedEvent[];
  /** Events so far, in the order etcd committed them. */
  ordered(): RecordedEvent[];
  stop(): void;
}

/** Opens one watch per collection path (e.g. `/apis/batch/v1/namespaces/x/jobs`) from now on. */
export async function recordEvents(
  client: KubeClient,
  collections: { path: string; kind: string }[],
): Promise<Recorder> {
  const events: RecordedEvent[] = [];
  const controller = new AbortController();
  for (const { path, kind } of collections) {
    const list = await client.request<{ metadata: { resourceVersion: string } }>('GET', path);
    const res = await client.stream(path, {
      query: { watch: 1, resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false },
      signal: controller.signal,
    });
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as { type: RecordedEvent['type'] | 'ERROR'; object: KubeObject };
        if (e.type === 'ERROR') continue;
        events.push({
          type: e.type,
          kind,
          name: e.object.metadata.name ?? '',
          revision: Number(e.object.metadata.resourceVersion),
          object: e.object,
        });
      }
    });
    res.on('error', () => {});
  }
  return {
    events,
    ordered: () => [...events].sort((a, b) => a.revision - b.revision),
    stop: () => controller.abort(),
  };
}
