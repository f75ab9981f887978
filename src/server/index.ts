// server: the controller's HTTP listener (probes, metrics, webhook receivers) and `cairn server`'s
// HTTP API behind the web UI, with its authentication and authorization (api/).
export * from './listener.ts';
export { ApiServer, defaultApiServerOptions, CONTENT_SECURITY_POLICY } from './api/server.ts';
