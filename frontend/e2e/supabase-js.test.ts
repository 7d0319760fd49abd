/**
 * Issue 9, "With supabase-js": the local API driven by plain supabase-js 2.119 (no kit), typed
 * with the generated Database type: sign-in, create_trip with a temp id and an Idempotency-Key,
 * start_research polled to completion, cancel_job, create_booking (paid at the Stripe double,
 * confirmed by the webhook).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import type { Database } from '@wayfare/kit'
import { PASSWORD, anonClient, daysFromNow, env, eventually, newEmail, realtime, sleep, succeedPayment } from './env.js'

type Client = SupabaseClient<Database>
type Details = { type: string; field: string | null; retryable: boolean; requestId: string }

let supabase: Client

before(async () => {
  const email = newEmail('sbjs')
  const signUp = await anonClient().auth.signUp({ email, password: PASSWORD })
  assert.equal(signUp.error, null, signUp.error?.message)
  supabase = createClient<Database>(env.apiUrl, env.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime,
  })
  const { data, error } = await supabase.auth.signInWithPassword({ email, password: PASSWORD })
  assert.equal(error, null, error?.message)
  assert.equal(data.user?.email, email)
  assert.ok(data.session?.access_token)
})

describe('supabase-js against the local API', () => {
  it('signs in and reads its own user', async () => {
    const { data, error } = await supabase.auth.getUser()
    assert.equal(error, null)
    assert.match(data.user!.id, /^[0-9a-f-]{36}$/)
    const wrong = await anonClient().auth.signInWithPassword({ email: data.user!.email!, password: 'not the password' })
    assert.ok(wrong.error, 'a wrong password must fail')
    assert.equal(wrong.data.session, null)
  })

  it('create_trip with a temp id and an Idempotency-Key: 201, then a replay, then 200 for the temp id', async () => {
    const tempId = `temp_${randomUUID()}`
    const key = randomUUID()
    const args = { title: 'Lisbon long weekend', destination: 'Lisbon', start_date: daysFromNow(30), end_date: daysFromNow(33), client_temp_id: tempId }
    const first = await supabase.rpc('create_trip', args).setHeader('Idempotency-Key', key)
    assert.equal(first.error, null, first.error?.message)
    assert.equal(first.status, 201)
    const trip = first.data as Database['public']['Tables']['trips']['Row']
    assert.match(trip.id, /^[0-9a-f-]{36}$/)
    assert.equal(trip.client_temp_id, tempId)
    assert.equal(trip.title, 'Lisbon long weekend')

    const replay = await supabase.rpc('create_trip', args).setHeader('Idempotency-Key', key)
    assert.equal(replay.status, 201) // the stored answer again
    assert.deepEqual(replay.data, first.data)

    const retry = await supabase.rpc('create_trip', args) // a retry without the key: the temp id finds the row
    assert.equal(retry.status, 200)
    assert.equal((retry.data as { id: string }).id, trip.id)

    const reused = await supabase.rpc('create_trip', { ...args, title: 'Porto' }).setHeader('Idempotency-Key', key)
    assert.equal(reused.status, 422)
    assert.equal(reused.error?.code, 'IDEMPOTENCY_KEY_REUSED')

    const { data: rows } = await supabase.from('trips').select('id, client_temp_id').eq('client_temp_id', tempId)
    assert.equal(rows?.length, 1)
  })

  it('errors follow the contract: details is our JSON with the request id', async () => {
    const requestId = `sbjs-${randomUUID()}`
    const { error, status } = await supabase.rpc('create_trip', { title: '   ' }).setHeader('X-Request-ID', requestId)
    assert.equal(status, 400)
    assert.equal(error?.code, 'VALIDATION_FAILED')
    const details = JSON.parse(error!.details) as Details
    assert.deepEqual(details, { type: 'validation', field: 'title', retryable: false, requestId })
    const anon = await anonClient().rpc('create_trip', { title: 'x' })
    assert.equal(anon.status, 401)
    assert.equal(anon.error?.code, 'UNAUTHORIZED')
  })

  it('start_research is polled to completion', async () => {
    const { data, error, status } = await supabase
      .rpc('start_research', { query: 'Three days in Lisbon with kids who love trams' })
      .setHeader('Idempotency-Key', randomUUID())
    assert.equal(error, null, error?.message)
    assert.equal(status, 202)
    const started = data as { jobId: string; status: string; pollUrl: string }
    assert.equal(started.status, 'queued')
    assert.equal(started.pollUrl, `/rest/v1/jobs?id=eq.${started.jobId}`)
    const progress: number[] = []
    let delay = 250
    const job = await eventually('research to finish', async () => {
      const { data: row } = await supabase.from('jobs').select('status, progress, result, error').eq('id', started.jobId).single()
      if (row && progress.at(-1) !== row.progress) progress.push(row.progress)
      if (row && ['completed', 'failed', 'cancelled'].includes(row.status)) return row
      await sleep((delay = Math.min(delay * 2, 1000)))
      return undefined
    }, 30_000)
    assert.equal(job.status, 'completed', job.error ?? '')
    assert.equal(job.progress, 100)
    const result = job.result as { summary: string; places: { name: string }[] }
    assert.ok(result.summary.length > 0)
    assert.ok(Array.isArray(result.places))
    assert.ok(progress.length >= 2, `saw the progress move: ${progress.join(',')}`)
  })

  it('cancel_job cancels a running research; a second cancel of the finished job is 409', async () => {
    const { data } = await supabase.rpc('start_research', { query: `Walk ${env.slowWord} through Porto's hills` })
    const { jobId } = data as { jobId: string }
    const cancel = await supabase.rpc('cancel_job', { job_id: jobId })
    assert.equal(cancel.error, null, cancel.error?.message)
    assert.ok(cancel.status === 200 || cancel.status === 202, `cancel answered ${cancel.status}`)
    const job = await eventually('the job to be cancelled', async () => {
      const { data: row } = await supabase.from('jobs').select('status').eq('id', jobId).single()
      return row?.status === 'cancelled' ? row : undefined
    })
    assert.equal(job.status, 'cancelled')
    const again = await supabase.rpc('cancel_job', { job_id: jobId })
    assert.equal(again.status, 409)
    assert.equal(again.error?.code, 'INVALID_STATE')
  })

  it('create_booking, paid at the Stripe double, confirmed by the webhook', async () => {
    const { data: hotels, error: hotelError } = await supabase.from('hotels').select('id, name, nightly_rate_cents, currency').eq('city', 'Lisbon')
    assert.equal(hotelError, null)
    const hotel = hotels![0]!
    const { data, error, status } = await supabase
      .rpc('create_booking', { hotel_id: hotel.id, check_in: daysFromNow(40), check_out: daysFromNow(43) })
      .setHeader('Idempotency-Key', randomUUID())
    assert.equal(error, null, error?.message)
    assert.equal(status, 201)
    const booking = data as { id: string; status: string; amount: number; currency: string; jobId: string }
    assert.equal(booking.status, 'payment_pending')
    assert.equal(booking.amount, 3 * hotel.nightly_rate_cents)
    assert.equal(booking.currency, hotel.currency)
    const row = await eventually('the PaymentIntent', async () => {
      const { data: b } = await supabase.from('bookings').select('status, client_secret, payment_intent_id').eq('id', booking.id).single()
      return b?.client_secret ? b : undefined
    })
    assert.match(row.client_secret!, /^pi_.+_secret_/)
    await succeedPayment(row.payment_intent_id!)
    const confirmed = await eventually('the booking to be confirmed', async () => {
      const { data: b } = await supabase.from('bookings').select('status, paid_at, confirmed_at').eq('id', booking.id).single()
      return b?.status === 'confirmed' ? b : undefined
    })
    assert.ok(confirmed.paid_at && confirmed.confirmed_at)
  })
})
