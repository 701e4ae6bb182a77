/**
 * A signal that aborts when the parent does or when `ms` have passed, whichever comes first.
 * Not AbortSignal.any([parent, AbortSignal.timeout(ms)]): on Node 20 the timeout signal inside it
 * can be garbage-collected before it fires (nodejs/node#57736), and a server that never answers
 * then hangs the step for good. A controller held by its own timer cannot be collected. Call
 * `clear()` when done, so neither the timer nor the listener outlives the work.
 */
export function withDeadline(parent: AbortSignal, ms: number, reason: () => Error): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason()), Math.min(ms, 2 ** 31 - 1));
  const onCancel = () => controller.abort(parent.reason);
  if (parent.aborted) onCancel();
  else parent.addEventListener('abort', onCancel, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onCancel);
    },
  };
}
