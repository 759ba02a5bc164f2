const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier call with the same `key` has settled, so two sessions of one
 * process never run conflicting git writes on one repository (git's ref locks would fail one
 * of them). Different keys run concurrently.
 */
export function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(key) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  chains.set(key, next);
  void next
    .finally(() => {
      if (chains.get(key) === next) chains.delete(key);
    })
    .catch(() => undefined);
  return next;
}
