// The inventory: what an application applied, so the next sync can prune what left Git and
// skip what did not change. One format; the stores (ConfigMap, Application status) live in apply/.

/** One applied object. */
export interface InventoryEntry {
  /** `group/Kind/namespace/name`, see objectKey. */
  key: string;
  apiVersion: string;
  /** Digest of the object as last applied (desiredDigest). */
  digest: string;
  /** Digest of Cairn's managed fields right after that apply (ownedFieldsDigest). */
  fields?: string;
}

export interface Inventory {
  /** The revision (commit) of the last successful sync that changed something. */
  revision?: string;
  entries: InventoryEntry[];
}

export function emptyInventory(): Inventory {
  return { entries: [] };
}

export function inventoryIndex(inventory: Inventory): Map<string, InventoryEntry> {
  return new Map(inventory.entries.map((e) => [e.key, e]));
}

/** Splits an inventory key back into its parts. */
export function parseKey(key: string): { group: string; kind: string; namespace: string; name: string } {
  const [group = '', kind = '', namespace = '', ...rest] = key.split('/');
  return { group, kind, namespace, name: rest.join('/') };
}
