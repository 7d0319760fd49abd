import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { createWayfareClient } from '../src/fetch.js'
import { rpc, rpcOrThrow } from '../src/rpc.js'
import type { WayfareError } from '../src/errors.js'

interface Seen {
  url: string
  method: string
  headers: Headers
  body: unknown
}

/** A PostgREST stand-in at the fetch level: records requests, answers what the test says. */
function fakeApi(answer: (req: Seen) => { status: number; body: unknown; headers?: Record<string, string> } | Error) {
  const seen: Seen[] = []
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = { url: String(input), method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: init?.body ? JSON.parse(String(init.body)) : null }
    seen.push(req)
    const a = answer(req)
    if (a instanceof Error) throw a
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json', ...a.headers } })
  }
  const client = createWayfareClient('http://api.test', 'anon-key', {
    global: { fetch: fetchImpl as typeof fetch },
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  })
  return { client, seen }
}

const trip = { id: '0b6c3f0e-0000-4000-8000-000000000001', user_id: 'u', title: 'Lisbon', destination: null, start_date: null, end_date: null, client_temp_id: 'temp_1', created_at: 'now', updated_at: 'now' }

describe('rpc', () => {
  it('sends args, the Idempotency-Key and an X-Request-ID; returns typed data', async () => {
    const api = fakeApi((req) => ({ status: 201, body: trip, headers: { 'x-request-id': req.headers.get('x-request-id')! } }))
    const result = await rpc(api.client, 'create_trip', { title: 'Lisbon', client_temp_id: 'temp_1' }, { idempotencyKey: 'key-1' })
    expect(api.seen[0]!.url).toBe('http://api.test/rest/v1/rpc/create_trip')
    expect(api.seen[0]!.method).toBe('POST')
    expect(api.seen[0]!.body).toEqual({ title: 'Lisbon', client_temp_id: 'temp_1' })
    expect(api.seen[0]!.headers.get('idempotency-key')).toBe('key-1')
    const sentId = api.seen[0]!.headers.get('x-request-id')!
    expect(sentId).toMatch(/^[A-Za-z0-9._-]{8,128}$/)
    expect(result.error).toBeNull()
    if (result.error) return
    const title: string = result.data.title // typed as a Trip
    expect(title).toBe('Lisbon')
    expect(result).toMatchObject({ status: 201, requestId: sentId, replayed: false })
  })

  it('no Idempotency-Key when none is given; a given request id is used', async () => {
    const api = fakeApi(() => ({ status: 200, body: { jobId: 'j', status: 'processing' } }))
    await rpc(api.client, 'cancel_job', { job_id: 'j' }, { requestId: 'my-request-0001' })
    expect(api.seen[0]!.headers.get('idempotency-key')).toBeNull()
    expect(api.seen[0]!.headers.get('x-request-id')).toBe('my-request-0001')
  })

  it('reports an idempotent replay', async () => {
    const api = fakeApi(() => ({ status: 201, body: trip, headers: { 'idempotent-replayed': 'true', 'x-request-id': 'srv-id-0001' } }))
    const result = await rpc(api.client, 'create_trip', { title: 'Lisbon' }, { idempotencyKey: 'k' })
    expect(result).toMatchObject({ replayed: true, requestId: 'srv-id-0001' })
  })

  it('429 RATE_LIMITED: typed error with Retry-After from the response header', async () => {
    const api = fakeApi(() => ({
      status: 429,
      headers: { 'retry-after': '37', 'x-request-id': 'rl-request-01' },
      body: { code: 'RATE_LIMITED', message: 'Too many requests.', details: '{"type":"rate_limit","field":null,"retryable":true,"requestId":"rl-request-01"}', hint: 'Wait for the number of seconds in Retry-After, then retry.' },
    }))
    const result = await rpc(api.client, 'create_trip', { title: 'x' })
    expect(result.data).toBeNull()
    expect(result.error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfter: 37, retryable: true, requestId: 'rl-request-01', fromContract: true })
    expect(result.requestId).toBe('rl-request-01')
  })

  it("PostgREST's own error (PGRST202) keeps its code; the request id comes from the header", async () => {
    const api = fakeApi(() => ({
      status: 404,
      headers: { 'x-request-id': 'pgrst-req-001' },
      body: { code: 'PGRST202', message: 'Could not find the function public.create_trip(tittle) in the schema cache', details: 'Searched for the function public.create_trip with parameter tittle or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.', hint: null },
    }))
    const result = await rpc(api.client, 'create_trip', { tittle: 'typo' } as never)
    expect(result.error).toMatchObject({ code: 'PGRST202', status: 404, type: 'client', fromContract: false, requestId: 'pgrst-req-001' })
  })

  it('a network failure is a retryable NETWORK error, not a throw', async () => {
    const api = fakeApi(() => new TypeError('fetch failed'))
    const result = await rpc(api.client, 'start_research', { query: 'Lisbon' })
    expect(result.error).toMatchObject({ code: 'NETWORK', type: 'network', retryable: true })
  })

  it('rejects when aborted', async () => {
    const api = fakeApi(() => ({ status: 200, body: {} }))
    const controller = new AbortController()
    controller.abort()
    await expect(rpc(api.client, 'cancel_job', { job_id: 'j' }, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('refreshes an expired session once and retries with the same Idempotency-Key', async () => {
    let calls = 0
    const api = fakeApi(() =>
      calls++ === 0
        ? { status: 401, body: { code: 'PGRST303', message: 'JWT expired', details: null, hint: null } }
        : { status: 201, body: trip },
    )
    const refresh = vi.spyOn(api.client.auth, 'refreshSession').mockResolvedValue({ data: { session: {} as never, user: null }, error: null } as never)
    const result = await rpc(api.client, 'create_trip', { title: 'Lisbon' }, { idempotencyKey: 'key-exp' })
    expect(refresh).toHaveBeenCalledOnce()
    expect(result.status).toBe(201)
    expect(api.seen.map((r) => r.headers.get('idempotency-key'))).toEqual(['key-exp', 'key-exp'])
    expect(api.seen[0]!.headers.get('x-request-id')).not.toBe(api.seen[1]!.headers.get('x-request-id'))

    calls = 0
    refresh.mockResolvedValue({ data: { session: null, user: null }, error: { message: 'Invalid Refresh Token' } } as never)
    const failed = await rpc(api.client, 'create_trip', { title: 'Lisbon' })
    expect(failed.error).toMatchObject({ code: 'PGRST303', kind: 'sign_in' })
    const off = await rpc(api.client, 'create_trip', { title: 'x' }, { refreshOnExpiry: false })
    expect(off.status).toBe(201) // the fake's second answer: no refresh, no retry happened before it
    expect(refresh).toHaveBeenCalledTimes(2)
  })

  it('rpcOrThrow throws the WayfareError', async () => {
    const api = fakeApi(() => ({ status: 409, body: { code: 'INVALID_STATE', message: 'This action is not allowed in the current state.', details: '{"type":"conflict","field":"job_id","retryable":false,"requestId":"abcdefgh1"}', hint: null } }))
    const thrown = (await rpcOrThrow(api.client, 'cancel_job', { job_id: 'j' }).catch((e: unknown) => e)) as WayfareError
    expect(thrown).toMatchObject({ name: 'WayfareError', code: 'INVALID_STATE', field: 'job_id' })
  })
})
