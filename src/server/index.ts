// server: the HTTP API behind the web UI, its authentication and authorization.
export {};
