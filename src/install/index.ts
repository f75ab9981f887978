// install: Cairn putting itself into a cluster and taking itself out: prerequisites (check), a
// self-managing install from Git (bootstrap), and uninstall. The manifests themselves are in api/.
export {
  BootstrapError,
  ObjectResult,
  bootstrapGit,
  type BootstrapGitOptions,
  type BootstrapResult,
} from './bootstrap.ts';
export { CheckStatus, MINIMUM_KUBERNETES, runChecks, type CheckReport, type CheckResult } from './check.ts';
export {
  DeleteResult,
  defaultUninstallOptions,
  planUninstall,
  uninstall,
  type UninstallOptions,
  type UninstallResult,
} from './uninstall.ts';
