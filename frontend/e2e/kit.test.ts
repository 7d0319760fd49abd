/**
 * @wayfare/kit against the local API over HTTP, with a real worker: rpc (data, replays and the
 * error contract, PostgREST's own errors), createWithTempId, watchJob.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { before, describe, it } from 'node:test'
import {
  createWayfareClient,
  createWithTempId,
  emptyOptimistic,
  isTempId,
  newIdempotencyKey,
  optimisticReducer,
  rpc,
  userMessage,
  watchJob,
  type JobSnapshot,
  type OptimisticAction,
  type OptimisticState,
  type Trip,
  type WayfareClient,
} from '@wayfare/kit'
import { PASSWORD, anonClient, env, newEmail, realtime } from './env.js'

let client: WayfareClient

async function signedIn(): Promise<WayfareClient> {
  const email = newEmail('kit')
  const signUp = await anonClient().auth.signUp({ email, password: PASSWORD })
  assert.equal(signUp.error, null, signUp.error?.message)
  const c = createWayfareClient(env.apiUrl, env.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime })
  const { error } = await c.auth.signInWithPassword({ email, password: PASSWORD })
  assert.equal(error, null, error?.message)
  return c
}

before(async () => {
  client = await signedIn()
})

describe('kit rpc over HTTP', () => {
  it('returns typed data, the request id and replays', async () => {
    const key = newIdempotencyKey()
    const first = await rpc(client, 'create_trip', { title: 'Kit trip' }, { idempotencyKey: key, requestId: 'kit-request-0001' })
    assert.equal(first.error, null, first.error?.message)
    assert.equal(first.status, 201)
    assert.equal(first.requestId, 'kit-request-0001')
    assert.equal(first.replayed, false)
    assert.equal(first.data!.title, 'Kit trip')
    const again = await rpc(client, 'create_trip', { title: 'Kit trip' }, { idempotencyKey: key })
    assert.equal(again.replayed, true)
    assert.equal(again.data!.id, first.data!.id)
  })

  it('maps our errors: field, request id, retryable', async () => {
    const bad = await rpc(client, 'create_trip', { title: '' }, { requestId: 'kit-request-0002' })
    assert.ok(bad.error)
    assert.equal(bad.error.code, 'VALIDATION_FAILED')
    assert.equal(bad.error.status, 400)
    assert.equal(bad.error.field, 'title')
    assert.equal(bad.error.requestId, 'kit-request-0002')
    assert.equal(bad.error.fromContract, true)
    assert.equal(bad.error.kind, 'field')

    // a missing required argument (the kit's types refuse it; a hand-made call can still send it)
    const noTitle = await rpc(client, 'create_trip', {} as { title: string })
    assert.equal(noTitle.error?.code, 'VALIDATION_FAILED')
    assert.equal(noTitle.error?.field, 'title')

    const missing = await rpc(client, 'cancel_job', { job_id: randomUUID() })
    assert.equal(missing.error?.code, 'NOT_FOUND')
    assert.equal(missing.error?.type, 'not_found')

    const anon = createWayfareClient(env.apiUrl, env.anonKey, { auth: { persistSession: false }, realtime })
    const unauth = await rpc(anon, 'start_research', { query: 'x' })
    assert.equal(unauth.error?.code, 'UNAUTHORIZED')
    assert.equal(userMessage(unauth.error!), 'Sign in required. Please sign in again.')
  })

  it("maps PostgREST's own errors (details not ours) with the gateway's request id", async () => {
    const cast = await rpc(client, 'cancel_job', { job_id: 'not-a-uuid' }, { requestId: 'kit-request-0003' })
    assert.equal(cast.error?.code, '22P02')
    assert.equal(cast.error?.status, 400)
    assert.equal(cast.error?.fromContract, false)
    assert.equal(cast.error?.type, 'validation')
    assert.equal(cast.error?.requestId, 'kit-request-0003')
    const unknown = await rpc(client, 'no_such_function' as 'cancel_job', { job_id: randomUUID() })
    assert.equal(unknown.error?.code, 'PGRST202')
    assert.equal(unknown.error?.kind, 'client')
  })

  it('RATE_LIMITED carries Retry-After and says "try again in N s"', async () => {
    const limited = await signedIn()
    let last = await rpc(limited, 'create_trip', { title: 'Rate 0' })
    for (let i = 1; i < 30 && !last.error; i++) last = await rpc(limited, 'create_trip', { title: `Rate ${i}` })
    assert.ok(last.error, 'no 429 within 30 create_trip calls')
    assert.equal(last.error.code, 'RATE_LIMITED')
    assert.equal(last.error.status, 429)
    assert.ok(last.error.retryAfter! >= 1 && last.error.retryAfter! <= 60, `Retry-After ${last.error.retryAfter}`)
    assert.equal(userMessage(last.error), `Too many requests: try again in ${last.error.retryAfter} s.`)
  })
})

describe('kit createWithTempId over HTTP', () => {
  it('temp row first, canonical row after, one row after a retry', async () => {
    let state: OptimisticState<Trip> = emptyOptimistic<Trip>()
    const states: OptimisticState<Trip>[] = []
    const dispatch = (a: OptimisticAction<Trip>) => states.push((state = optimisticReducer(state, a)))
    const key = newIdempotencyKey()
    const optimistic = { title: 'Optimistic Porto' } as Omit<Trip, 'id' | 'client_temp_id'>
    const create = (tempId: string) => rpc(client, 'create_trip', { title: 'Optimistic Porto', client_temp_id: tempId }, { idempotencyKey: key })
    const result = await createWithTempId(dispatch, { optimistic, create })
    assert.equal(result.error, null)
    assert.ok(isTempId(states[0]!.items[0]!.id), 'the temp row showed first')
    assert.equal(states[0]!.items[0]!.pending, true)
    assert.equal(state.items.length, 1)
    assert.equal(state.items[0]!.id, result.data!.id)
    assert.equal(state.items[0]!.client_temp_id, result.tempId)
    assert.ok(!isTempId(state.items[0]!.id))
    // a retry (lost response): same temp id and key -> still one row, here and in the database
    await createWithTempId(dispatch, { optimistic, create, tempId: result.tempId })
    assert.equal(state.items.length, 1)
    const { data } = await client.from('trips').select('id').eq('client_temp_id', result.tempId)
    assert.equal(data?.length, 1)
  })

  it('a failure rolls the temp row back with the error', async () => {
    let state: OptimisticState<Trip> = emptyOptimistic<Trip>()
    const dispatch = (a: OptimisticAction<Trip>) => (state = optimisticReducer(state, a))
    const result = await createWithTempId(dispatch, {
      optimistic: { title: '' } as Omit<Trip, 'id' | 'client_temp_id'>,
      create: (tempId) => rpc(client, 'create_trip', { title: '', client_temp_id: tempId }),
    })
    assert.equal(state.items.length, 0)
    assert.equal(state.errors[result.tempId]?.code, 'VALIDATION_FAILED')
  })
})

describe('kit watchJob with the real worker', () => {
  it('follows a demo.steps job to completed, resetting on progress', async () => {
    const started = await rpc(client, 'start_job', { job_type: 'demo.steps', input: { steps: 4, step_ms: 700 } })
    assert.equal(started.error, null, started.error?.message)
    const seen: JobSnapshot[] = []
    const t0 = Date.now()
    const result = await watchJob(client, started.data!.jobId, {
      onUpdate: (j) => seen.push(j),
      backoff: { initialMs: 300, capMs: 1200 },
      realtime: false,
    })
    assert.equal(result.outcome, 'completed')
    assert.equal(result.job.progress, 100)
    assert.ok(seen.length >= 2, `updates: ${seen.map((j) => `${j.status}:${j.progress}`).join(' ')}`)
    assert.ok(Date.now() - t0 < 15_000)
  })

  it('ends on cancelled after cancel_job, and stops on abort', async () => {
    const started = await rpc(client, 'start_job', { job_type: 'demo.steps', input: { steps: 200, step_ms: 500 } })
    const jobId = started.data!.jobId
    const watching = watchJob(client, jobId, { backoff: { initialMs: 200, capMs: 800 } }) // realtime 'auto': falls back
    const cancelled = await rpc(client, 'cancel_job', { job_id: jobId })
    assert.equal(cancelled.error, null, cancelled.error?.message)
    const result = await watching
    assert.equal(result.outcome, 'cancelled')
    assert.equal(result.realtime, false) // the local stack has no Realtime

    const other = await rpc(client, 'start_job', { job_type: 'demo.steps', input: { steps: 200, step_ms: 500 } })
    const controller = new AbortController()
    const aborted = watchJob(client, other.data!.jobId, { signal: controller.signal, realtime: false })
    setTimeout(() => controller.abort(), 300)
    await assert.rejects(aborted, { name: 'AbortError' })
    await rpc(client, 'cancel_job', { job_id: other.data!.jobId })
  })
})
