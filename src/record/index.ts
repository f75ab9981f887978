// record: deployment history, DORA metrics and Prometheus metrics.
export * from './metrics.ts';
export * from './controller-metrics.ts';
