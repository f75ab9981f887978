/** What the API server says about one kind: where it lives and whether it is namespaced. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

interface APIResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

export class UnknownKindError extends Error {
  override name = 'UnknownKindError';
}

/**
 * Maps apiVersion + kind to a resource, reading one group-version document per apiVersion on
 * first use and keeping it. `invalidate()` forgets everything (after a CRD is installed).
 */
export class ApiDiscovery {
  readonly #fetch: (path: string) => Promise<unknown>;
  readonly #groupVersions = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(fetch: (path: string) => Promise<unknown>) {
    this.#fetch = fetch;
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const kinds = await this.#kindsOf(apiVersion);
    const info = kinds.get(kind);
    if (!info) {
      // A CRD may have been installed since we looked: look once more before giving up.
      this.#groupVersions.delete(apiVersion);
      const fresh = await this.#kindsOf(apiVersion);
      const again = fresh.get(kind);
      if (again) return again;
      throw new UnknownKindError(`kind ${kind} is not served by the API server in ${apiVersion}`);
    }
    return info;
  }

  invalidate(): void {
    this.#groupVersions.clear();
  }

  #kindsOf(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let pending = this.#groupVersions.get(apiVersion);
    if (!pending) {
      pending = this.#load(apiVersion);
      this.#groupVersions.set(apiVersion, pending);
      pending.catch(() => this.#groupVersions.delete(apiVersion));
    }
    return pending;
  }

  async #load(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let list: APIResourceList;
    try {
      list = (await this.#fetch(path)) as APIResourceList;
    } catch (cause) {
      if ((cause as { code?: number }).code === 404) {
        throw new UnknownKindError(`apiVersion ${apiVersion} is not served by the API server`, { cause });
      }
      throw cause;
    }
    const kinds = new Map<string, ResourceInfo>();
    for (const r of list.resources) {
      if (r.name.includes('/')) continue; // subresources
      kinds.set(r.kind, {
        group: group ?? '',
        version: version ?? '',
        kind: r.kind,
        resource: r.name,
        namespaced: r.namespaced,
        verbs: r.verbs ?? [],
      });
    }
    return kinds;
  }
}
