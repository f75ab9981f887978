// policy: CEL rules over rendered manifests; violations stop a sync before anything is applied.
export {};
