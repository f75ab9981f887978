// api: the CRD types of cairn.dev/v1alpha1 (GitRepository, Application, ...), their schemas and
// the generated CRD manifests. One source of truth for the objects Cairn reads and writes.
export {};
