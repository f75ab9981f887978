// health: the health of a live object, per kind, with a conditions-first fallback. Pure.
export { HealthStatus, type Health, type HealthRule, type Condition } from './types.ts';
export { HEALTH_RULES, aggregateHealth, healthOf, isWorse } from './registry.ts';
