// plan: desired manifests and live objects in, a ChangeSet (create / configure / unchanged / prune)
// in apply order out. Pure.
export {};
