/** Polling backoff: 2 s -> 4 s -> 8 s (then the cap), with jitter; never above the cap. */
export interface BackoffOptions {
  /** First delay (ms). Default 2000. */
  initialMs?: number
  /** Growth per attempt. Default 2. */
  factor?: number
  /** Largest delay (ms), jitter included. Default 8000. */
  capMs?: number
  /** Relative jitter: the delay is spread over ±jitter of itself. Default 0.2. */
  jitter?: number
  /** Source of randomness in [0, 1). Default Math.random. */
  random?: () => number
}

export const DEFAULT_BACKOFF = { initialMs: 2000, factor: 2, capMs: 8000, jitter: 0.2 } as const

/** The delay before poll number `attempt` + 1 (attempt 0 is the first wait). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs
  const factor = options.factor ?? DEFAULT_BACKOFF.factor
  const cap = options.capMs ?? DEFAULT_BACKOFF.capMs
  const jitter = Math.min(Math.max(options.jitter ?? DEFAULT_BACKOFF.jitter, 0), 1)
  const random = options.random ?? Math.random
  const exponent = Math.max(0, Math.floor(attempt))
  const raw = Math.min(initial * Math.pow(factor, Math.min(exponent, 64)), cap)
  const spread = raw * jitter * (2 * random() - 1)
  return Math.round(Math.min(Math.max(raw + spread, 0), cap))
}

/** Wait `ms`, or less when `wake` resolves; rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal, wake?: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('The operation was aborted.', 'AbortError'))
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError'))
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
    wake?.then(done, done)
  })
}
