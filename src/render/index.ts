// render: an artifact and a path in, Kubernetes manifests out (plain YAML, Kustomize, Helm, SOPS).
// Pure given its inputs.
export {};
