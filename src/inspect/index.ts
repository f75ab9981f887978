// inspect: what Cairn did, read back for people: an Application's resource tree with the objects
// Kubernetes made from them, and which Application, source and commit manage a live object. Pure.
export * from './tree.ts';
export * from './trace.ts';
