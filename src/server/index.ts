// server: the controller's HTTP listener (probes, metrics, webhook receivers) and, later, the HTTP
// API behind the web UI with its authentication and authorization.
export * from './listener.ts';
