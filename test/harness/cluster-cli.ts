// npm run cluster -- up | down | status | env | stop COMPONENT | start COMPONENT  [options]
import { parseArgs } from 'node:util';
import {
  COMPONENTS,
  ControlPlane,
  defaultControlPlaneOptions,
  type Component,
  type ControlPlaneOptions,
} from './controlplane.ts';

const USAGE = `usage: npm run cluster -- COMMAND [options]

Commands:
  up                 start a local control plane (builds the binaries on first use)
  down               stop every process of the instance and delete its data
  status             show which components run and how many nodes are Ready
  env                print the shell lines that point kubectl at the instance
  stop COMPONENT     stop one component (${COMPONENTS.join(', ')})
  start COMPONENT    start it again

Options:
  --name NAME            instance name, for a private instance with its own ports and data (default: default)
  --nodes N              simulated nodes (default: 3)
  --pods-per-node N      pod capacity of each node (default: 1000)
  --kcm-qps N            kube-controller-manager client QPS, burst twice that (default: 100)
  --scheduler-qps N      kube-scheduler client QPS, burst twice that (default: 100)
  --port N               kube-apiserver port (default: a free port)
  --unlimited            lift the API server's in-flight limits and priority and fairness (benchmarks)
  -o json                machine-readable status

Example:
  npm run cluster -- up && eval "$(npm run --silent cluster -- env)" && kubectl get nodes`;

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      nodes: { type: 'string' },
      'pods-per-node': { type: 'string' },
      'kcm-qps': { type: 'string' },
      'scheduler-qps': { type: 'string' },
      port: { type: 'string' },
      unlimited: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const defaults = defaultControlPlaneOptions();
  const where = { root: defaults.root, name: values.name ?? defaults.name };
  const log = (line: string) => console.error(line);

  switch (command) {
    case 'up': {
      const options: Partial<ControlPlaneOptions> = { ...where };
      const set = <K extends keyof ControlPlaneOptions>(key: K, v: ControlPlaneOptions[K] | undefined) => {
        if (v !== undefined) options[key] = v;
      };
      set('nodes', positiveInt(values.nodes, '--nodes'));
      set('podsPerNode', positiveInt(values['pods-per-node'], '--pods-per-node'));
      set('controllerManagerQps', positiveInt(values['kcm-qps'], '--kcm-qps'));
      set('schedulerQps', positiveInt(values['scheduler-qps'], '--scheduler-qps'));
      set('apiserverPort', positiveInt(values.port, '--port'));
      set('unlimited', values.unlimited);
      const started = Date.now();
      const plane = await ControlPlane.up(options, log);
      log(`cluster ${plane.name} is up (${((Date.now() - started) / 1000).toFixed(1)} s); to use it:`);
      console.log(plane.env());
      return 0;
    }
    case 'down': {
      const plane = await ControlPlane.open(where);
      if (!plane) {
        log(`cluster ${where.name} is not up`);
        return 0;
      }
      await plane.down();
      log(`cluster ${where.name} is down`);
      return 0;
    }
    case 'status': {
      const plane = await ControlPlane.open(where);
      if (!plane) {
        if (values.output === 'json') console.log(JSON.stringify({ name: where.name, up: false }));
        else log(`cluster ${where.name} is not up`);
        return 1;
      }
      const status = await plane.status();
      if (values.output === 'json') {
        console.log(JSON.stringify({ up: status.apiserverReady, ...status }, null, 2));
      } else {
        console.log(
          `cluster ${status.name}: ${status.server}${status.apiserverReady ? '' : ' (not serving)'}`,
        );
        for (const [name, state] of Object.entries(status.components))
          console.log(`  ${name.padEnd(20)} ${state}`);
        console.log(`  ${'nodes Ready'.padEnd(20)} ${status.readyNodes}`);
      }
      return status.apiserverReady ? 0 : 1;
    }
    case 'env': {
      const plane = await ControlPlane.open(where);
      if (!plane) throw new UsageError(`cluster ${where.name} is not up (run: npm run cluster -- up)`);
      console.log(plane.env());
      return 0;
    }
    case 'stop':
    case 'start': {
      if (!arg || !(COMPONENTS as readonly string[]).includes(arg)) {
        throw new UsageError(`${command} needs a component: ${COMPONENTS.join(', ')}`);
      }
      const plane = await ControlPlane.open(where);
      if (!plane) throw new UsageError(`cluster ${where.name} is not up`);
      await plane[command](arg as Component);
      log(`${arg} ${command === 'stop' ? 'stopped' : 'started'}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`cluster: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
