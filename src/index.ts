// The engine's public surface: what the controller, the CLI and the UI build on.
export * from './cluster/index.ts';
export { VERSION } from './version.ts';
