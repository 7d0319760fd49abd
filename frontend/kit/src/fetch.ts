/**
 * supabase-js does not hand response headers to the caller. `wayfareFetch` wraps the fetch the
 * client uses and remembers, per X-Request-ID, the headers docs/api.md and docs/errors.md rely
 * on (X-Request-ID, Retry-After, Idempotent-Replayed), so `rpc` can read them back.
 */
import { createClient, type SupabaseClientOptions } from '@supabase/supabase-js'
import type { Database } from './database.types.js'
import type { WayfareClient } from './types.js'

export interface ResponseMeta {
  status: number
  requestId: string | null
  retryAfter: string | null
  replayed: boolean
}

const MAX_REMEMBERED = 200
const remembered = new Map<string, ResponseMeta>()

function requestIdOf(input: RequestInfo | URL, init?: RequestInit): string | null {
  const fromInit = init?.headers ? new Headers(init.headers).get('x-request-id') : null
  if (fromInit) return fromInit
  if (typeof Request !== 'undefined' && input instanceof Request) return input.headers.get('x-request-id')
  return null
}

/** Wrap a fetch so that responses to requests carrying X-Request-ID are remembered. */
export function wayfareFetch(base: typeof fetch = (...a) => fetch(...a)): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    const sent = requestIdOf(input, init)
    const response = await base(input, init)
    if (sent) {
      if (remembered.size >= MAX_REMEMBERED) {
        const oldest = remembered.keys().next().value
        if (oldest !== undefined) remembered.delete(oldest)
      }
      remembered.set(sent, {
        status: response.status,
        requestId: response.headers.get('x-request-id'),
        retryAfter: response.headers.get('retry-after'),
        replayed: response.headers.get('idempotent-replayed') === 'true',
      })
    }
    return response
  }
}

/** Take (and forget) what wayfareFetch saw for this request id; null if the client does not use it. */
export function takeResponseMeta(requestId: string): ResponseMeta | null {
  const meta = remembered.get(requestId) ?? null
  remembered.delete(requestId)
  return meta
}

/**
 * createClient with wayfareFetch. On Node below 22 pass `realtime: { transport: WebSocket }`
 * (the `ws` package): supabase-js 2.119 builds its Realtime client eagerly.
 */
export function createWayfareClient(
  url: string,
  key: string,
  options: SupabaseClientOptions<'public'> = {},
): WayfareClient {
  const base = options.global?.fetch
  return createClient<Database>(url, key, {
    ...options,
    global: { ...options.global, fetch: wayfareFetch(base) },
  })
}

/** A request id of the shape the API accepts (8-128 of [A-Za-z0-9._-]). */
export function newRequestId(): string {
  return globalThis.crypto.randomUUID()
}
