// api: the CRD types of cairn.dev/v1alpha1 (GitRepository, Application, Receiver), their schemas and
// the generated CRD manifests. One source of truth for the objects Cairn reads and writes.
export * from './types.ts';
export { KINDS, customResourceDefinition, customResourceDefinitions } from './crds.ts';
export { DURATION_PATTERN, NAME_PATTERN, s, type Infer, type OpenApiSchema, type Schema } from './schema.ts';
