// notify: outbound notifications (providers, alerts) and inbound webhooks (receivers).
export * from './receivers.ts';
