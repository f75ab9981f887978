// delivery: progressive delivery (canary, blue-green, A/B) with metric analysis and rollback.
export {};
