// health: the health of a live object, per kind, with a conditions-first fallback. Pure.
export {};
