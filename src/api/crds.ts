// CustomResourceDefinitions generated from the schemas in types.ts: the manifests in deploy/ are
// this module's output (`npm run generate`), checked by a test to be current.
import type { KubeObject } from '../cluster/objects.ts';
import { s, type OpenApiSchema, type Schema } from './schema.ts';
import {
  GROUP,
  VERSION,
  applicationSpec,
  applicationStatus,
  gitRepositorySpec,
  gitRepositoryStatus,
  receiverSpec,
  receiverStatus,
} from './types.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer';
  jsonPath: string;
  priority?: number;
}

interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  spec: Schema<unknown>;
  status: Schema<unknown>;
  columns: PrinterColumn[];
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const message: PrinterColumn = {
  name: 'Status',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].message',
  priority: 1,
};

export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'GitRepository',
    plural: 'gitrepositories',
    singular: 'gitrepository',
    shortNames: ['gitrepo'],
    spec: gitRepositorySpec,
    status: gitRepositoryStatus,
    columns: [
      { name: 'URL', type: 'string', jsonPath: '.spec.url' },
      ready,
      { name: 'Revision', type: 'string', jsonPath: '.status.artifact.revision' },
      age,
      message,
    ],
  },
  {
    kind: 'Application',
    plural: 'applications',
    singular: 'application',
    shortNames: ['app', 'apps'],
    spec: applicationSpec,
    status: applicationStatus,
    columns: [
      { name: 'Sync', type: 'string', jsonPath: '.status.sync.status' },
      { name: 'Health', type: 'string', jsonPath: '.status.health.status' },
      { name: 'Revision', type: 'string', jsonPath: '.status.sync.revision' },
      ready,
      age,
      message,
    ],
  },
  {
    kind: 'Receiver',
    plural: 'receivers',
    singular: 'receiver',
    shortNames: [],
    spec: receiverSpec,
    status: receiverStatus,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      ready,
      age,
      { name: 'Path', type: 'string', jsonPath: '.status.webhookPath', priority: 1 },
    ],
  },
];

function rootSchema(def: KindDefinition): OpenApiSchema {
  return s.object({
    apiVersion: s.optional(s.string()),
    kind: s.optional(s.string()),
    metadata: s.optional(s.object({})),
    spec: def.spec as Schema<unknown> & { optional: false },
    status: s.optional(def.status),
  }).openapi;
}

export function customResourceDefinition(def: KindDefinition): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'cairn' } },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
        categories: ['cairn'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: { openAPIV3Schema: rootSchema(def) },
        },
      ],
    },
  };
}

export function customResourceDefinitions(): KubeObject[] {
  return KINDS.map(customResourceDefinition);
}
