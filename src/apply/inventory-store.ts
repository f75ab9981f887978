// Inventory stores: where an application's inventory is kept between syncs. The one-shot CLI uses
// a ConfigMap per application; the controller will keep it in the Application's status.
import { isNotFound, type KubeClient } from '../cluster/client.ts';
import type { KubeObject } from '../cluster/objects.ts';
import { emptyInventory, type Inventory } from '../plan/inventory.ts';

export interface InventoryStore {
  load(): Promise<Inventory>;
  save(inventory: Inventory): Promise<void>;
}

/** Manager name for the inventory ConfigMap, apart from the applied objects' manager. */
const INVENTORY_MANAGER = 'cairn-inventory';

export function inventoryConfigMapName(application: string): string {
  return `cairn-inventory-${application}`;
}

/** The inventory as JSON in a ConfigMap `cairn-inventory-<app>` in the given namespace. */
export class ConfigMapInventoryStore implements InventoryStore {
  readonly #client: KubeClient;
  readonly #application: string;
  readonly #namespace: string;

  constructor(client: KubeClient, application: string, namespace: string) {
    this.#client = client;
    this.#application = application;
    this.#namespace = namespace;
  }

  #ref() {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: this.#namespace,
      name: inventoryConfigMapName(this.#application),
    };
  }

  async load(): Promise<Inventory> {
    let cm: KubeObject;
    try {
      cm = await this.#client.get(this.#ref());
    } catch (e) {
      if (isNotFound(e)) return emptyInventory();
      throw e;
    }
    const text = (cm.data as Record<string, string> | undefined)?.inventory;
    if (!text) return emptyInventory();
    try {
      return JSON.parse(text) as Inventory;
    } catch (cause) {
      throw new Error(
        `ConfigMap/${this.#namespace}/${inventoryConfigMapName(this.#application)}: inventory is not valid JSON`,
        { cause },
      );
    }
  }

  async save(inventory: Inventory): Promise<void> {
    const name = inventoryConfigMapName(this.#application);
    await this.#client.apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace: this.#namespace,
          labels: {
            'app.kubernetes.io/managed-by': 'cairn',
            'app.cairn.dev/inventory-of': this.#application,
          },
        },
        data: { inventory: JSON.stringify(inventory) },
      },
      { fieldManager: INVENTORY_MANAGER },
    );
  }
}

/** An inventory kept in memory, for tests and dry runs. */
export class MemoryInventoryStore implements InventoryStore {
  inventory: Inventory;
  constructor(inventory: Inventory = emptyInventory()) {
    this.inventory = inventory;
  }
  load(): Promise<Inventory> {
    return Promise.resolve(structuredClone(this.inventory));
  }
  save(inventory: Inventory): Promise<void> {
    this.inventory = structuredClone(inventory);
    return Promise.resolve();
  }
}
