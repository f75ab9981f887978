import { defaultInstallOptions } from '../../api/install.ts';
import { CheckStatus, runChecks, type CheckReport } from '../../install/check.ts';
import type { Command } from '../command.ts';
import { writeLine } from '../io.ts';
import { KUBE_OPTIONS, withTarget } from '../kube.ts';
import { parseOutputFormat } from '../output.ts';

const MARK = { [CheckStatus.Pass]: '✔', [CheckStatus.Warn]: '!', [CheckStatus.Fail]: '✗' } as const;

export function formatChecklist(report: CheckReport): string {
  return [
    ...report.checks.map((c) => `${MARK[c.status]} ${c.name}: ${c.message}`),
    report.ok
      ? 'all checks passed'
      : `${report.checks.filter((c) => c.status === CheckStatus.Fail).length} check(s) failed`,
  ].join('\n');
}

export const check: Command = {
  name: 'check',
  summary: 'check that Cairn can be installed (--pre) or that the installed Cairn is whole',
  usage: 'cairn check [--pre] [--namespace cairn-system] [-o json]',
  description:
    'With --pre: the cluster answers, its Kubernetes version is supported, and you may create everything\n' +
    'cairn install applies (asked with SelfSubjectAccessReview). Without: the cluster answers, the version,\n' +
    "Cairn's CRDs are established, the controller Deployment is available, and its ServiceAccount holds the\n" +
    'rights the controller needs (SubjectAccessReview). Prints a checklist; exit code 1 if any check fails.',
  examples: ['cairn check --pre', 'cairn check -n cairn-system -o json'],
  options: { ...KUBE_OPTIONS, pre: { type: 'boolean' }, output: { type: 'string', short: 'o' } },
  async run({ values }, io) {
    const format = values.output === undefined ? 'text' : parseOutputFormat(values.output as string, 'json');
    return withTarget({ ...values, namespace: undefined }, io, async ({ client }) => {
      const report = await runChecks(client, {
        pre: Boolean(values.pre),
        namespace: (values.namespace as string | undefined) ?? defaultInstallOptions().namespace,
      });
      if (format === 'json') writeLine(io.out, JSON.stringify(report, null, 2));
      else if (format === 'yaml') io.out.write((await import('yaml')).stringify(report));
      else writeLine(io.out, formatChecklist(report));
      return report.ok ? 0 : 1;
    });
  },
};
