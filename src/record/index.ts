// record: deployment history, DORA metrics and Prometheus metrics.
export {};
