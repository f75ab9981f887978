import { Controller, defaultControllerOptions } from '../../controller/controller.ts';
import { jsonLogger, type LogLevel } from '../../log.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../io.ts';
import { connect } from '../kube.ts';

function listenAddress(value: string | undefined): { host?: string; port: number } | undefined {
  if (value === undefined) return { port: 8080 };
  if (value === 'off') return undefined;
  const m = /^(?:(.*):)?(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--listen takes HOST:PORT, :PORT or off, got "${value}"`);
  return { ...(m[1] ? { host: m[1].replace(/^\[|\]$/g, '') } : {}), port: Number(m[2]) };
}

export const controller: Command = {
  name: 'controller',
  summary:
    'run the controller: keep Applications in sync with Git, watch for drift, serve webhooks and metrics',
  usage:
    'cairn controller [--watch-namespace NS] [--listen HOST:PORT] [--leader-election-namespace NS] [--concurrency N]',
  description:
    'Runs until SIGTERM or SIGINT, then finishes the reconciles under way and releases its Lease.\n' +
    'Logs are JSON lines on stderr. The listener serves /healthz, /readyz, /metrics and /hook/<token> for Receivers.',
  examples: [
    'cairn controller',
    'cairn controller --watch-namespace team-a --listen 127.0.0.1:9090 --no-leader-election',
  ],
  options: {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'watch-namespace': { type: 'string' },
    listen: { type: 'string' },
    'leader-election-namespace': { type: 'string' },
    'leader-election-id': { type: 'string' },
    'no-leader-election': { type: 'boolean' },
    concurrency: { type: 'string' },
    'cache-dir': { type: 'string' },
    'allow-http-git': { type: 'boolean' },
    'log-level': { type: 'string' },
  },
  async run({ values }, io) {
    const level = (values['log-level'] as string | undefined) ?? 'info';
    if (!['debug', 'info', 'warn', 'error'].includes(level))
      throw new UsageError(`--log-level must be debug, info, warn or error`);
    const logger = jsonLogger((line) => io.err.write(line), level as LogLevel, { component: 'controller' });
    const { client } = await connect({ kubeconfig: values.kubeconfig, context: values.context }, io);
    const defaults = defaultControllerOptions(logger);
    const concurrency = values.concurrency === undefined ? defaults.concurrency : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new UsageError('--concurrency must be a positive whole number');
    const watchNamespace = values['watch-namespace'] as string | undefined;
    const listen = listenAddress(values.listen as string | undefined);
    const controller = new Controller(client, {
      ...defaults,
      concurrency,
      ...(watchNamespace ? { watchNamespace } : {}),
      ...(listen ? { listen } : { listen: undefined }),
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] as string } : {}),
      allowHttpGit: Boolean(values['allow-http-git']),
      ...(values['no-leader-election']
        ? { leaderElection: undefined }
        : {
            leaderElection: {
              ...defaults.leaderElection!,
              namespace:
                (values['leader-election-namespace'] as string | undefined) ??
                watchNamespace ??
                defaults.leaderElection!.namespace,
              ...(values['leader-election-id'] ? { name: values['leader-election-id'] as string } : {}),
            },
          }),
    });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      await controller.run(stop.signal);
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    return 0;
  },
};
