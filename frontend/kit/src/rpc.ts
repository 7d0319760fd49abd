/** Typed RPC calls with the Idempotency-Key header and the error contract. */
import { toWayfareError, fromUnknown, WayfareError } from './errors.js'
import { newRequestId, takeResponseMeta } from './fetch.js'
import type { RpcArgs, RpcName, RpcReturns, WayfareClient } from './types.js'

export interface RpcOptions {
  /** One key per user intention, reused on every retry of it (docs/api.md "Idempotency"). */
  idempotencyKey?: string
  /** Sent as X-Request-ID; a UUID when omitted. */
  requestId?: string
  signal?: AbortSignal
  /**
   * On 401 "JWT expired" (PGRST303), refresh the session once and retry with the same
   * Idempotency-Key (default true). supabase-js refreshes ahead of expiry by itself; this
   * covers a tab that slept past it.
   */
  refreshOnExpiry?: boolean
}

export type RpcResult<T> =
  | { data: T; error: null; status: number; requestId: string | null; replayed: boolean }
  | { data: null; error: WayfareError; status: number; requestId: string | null; replayed: false }

interface HeaderLike {
  get(name: string): string | null
}

function headersFrom(meta: { requestId: string | null; retryAfter: string | null } | null): HeaderLike | null {
  if (!meta) return null
  return {
    get: (name: string) =>
      name.toLowerCase() === 'x-request-id' ? meta.requestId : name.toLowerCase() === 'retry-after' ? meta.retryAfter : null,
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}

/**
 * Call an RPC. Never throws for an HTTP or network error: the result carries a WayfareError.
 * Rejects only when `signal` aborts (with the signal's reason).
 */
export async function rpc<N extends RpcName>(
  client: WayfareClient,
  name: N,
  args: RpcArgs<N>,
  options: RpcOptions = {},
): Promise<RpcResult<RpcReturns<N>>> {
  const result = await rpcOnce(client, name, args, options)
  if (result.error?.code === 'PGRST303' && options.refreshOnExpiry !== false && !options.signal?.aborted) {
    const { data, error } = await client.auth.refreshSession()
    if (!error && data.session) return rpcOnce(client, name, args, { ...options, requestId: undefined })
  }
  return result
}

async function rpcOnce<N extends RpcName>(
  client: WayfareClient,
  name: N,
  args: RpcArgs<N>,
  options: RpcOptions,
): Promise<RpcResult<RpcReturns<N>>> {
  const requestId = options.requestId ?? newRequestId()
  // supabase-js's rpc() generics cannot follow a generic N; the public signature above is typed.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let builder = (client as any).rpc(name, args)
  builder = builder.setHeader('X-Request-ID', requestId)
  if (options.idempotencyKey) builder = builder.setHeader('Idempotency-Key', options.idempotencyKey)
  if (options.signal) builder = builder.abortSignal(options.signal)
  let response: { data: unknown; error: { code?: string; message?: string; details?: string; hint?: string } | null; status: number }
  try {
    response = await builder
  } catch (thrown) {
    takeResponseMeta(requestId)
    if (options.signal?.aborted) throw abortError(options.signal)
    const error = fromUnknown(thrown)
    return { data: null, error, status: 0, requestId: null, replayed: false }
  }
  const meta = takeResponseMeta(requestId)
  if (options.signal?.aborted) throw abortError(options.signal)
  if (response.error) {
    const error = toWayfareError(response.error, response.status, headersFrom(meta))
    return { data: null, error, status: response.status, requestId: error.requestId, replayed: false }
  }
  return {
    data: response.data as RpcReturns<N>,
    error: null,
    status: response.status,
    requestId: meta?.requestId ?? requestId,
    replayed: meta?.replayed ?? false,
  }
}

/** rpc() that throws the WayfareError instead of returning it. */
export async function rpcOrThrow<N extends RpcName>(
  client: WayfareClient,
  name: N,
  args: RpcArgs<N>,
  options: RpcOptions = {},
): Promise<RpcReturns<N>> {
  const result = await rpc(client, name, args, options)
  if (result.error) throw result.error
  return result.data
}

/** A fresh Idempotency-Key (keep it for the retries of the same intention). */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID()
}
