// apply: a plan in, the cluster changed: server-side apply, prune, hooks, waves.
export {};
