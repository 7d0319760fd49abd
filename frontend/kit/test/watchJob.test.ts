import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WayfareError } from '../src/errors.js'
import { jobOutcome, watchJob, type JobSnapshot } from '../src/watchJob.js'
import type { WayfareClient } from '../src/types.js'

const noJitter = { random: () => 0.5 }

/** A job read that returns the scripted states in turn (the last one repeats) and records when. */
function scripted(states: (Partial<JobSnapshot> | Error)[]) {
  const calls: number[] = []
  const start = Date.now()
  let i = 0
  const fetchJob = async (): Promise<JobSnapshot> => {
    calls.push(Date.now() - start)
    const s = states[Math.min(i++, states.length - 1)]!
    if (s instanceof Error) throw s
    return { id: 'job-1', status: 'queued', progress: 0, error: null, ...s }
  }
  /** Gaps between consecutive polls, in ms. */
  const gaps = () => calls.slice(1).map((t, n) => t - calls[n]!)
  return { fetchJob, calls, gaps }
}

const queued = { status: 'queued', progress: 0 }
const at = (progress: number) => ({ status: 'processing', progress })

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('watchJob polling', () => {
  it('backs off 2 -> 4 -> 8 -> 8 s while nothing moves', async () => {
    const s = scripted([queued, queued, queued, queued, queued, { status: 'completed', progress: 100 }])
    const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter })
    await vi.advanceTimersByTimeAsync(60_000)
    const result = await done
    expect(s.gaps()).toEqual([2000, 4000, 8000, 8000, 8000])
    expect(result).toMatchObject({ outcome: 'completed', polls: 6, realtime: false })
  })

  it('resets to 2 s whenever the job moves', async () => {
    const s = scripted([queued, queued, queued, at(10), at(10), at(10), at(40), { status: 'completed', progress: 100 }])
    const updates: number[] = []
    const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter, onUpdate: (j) => updates.push(j.progress) })
    await vi.advanceTimersByTimeAsync(120_000)
    await done
    // queued: 2, 4, 8 ; progress 10 -> reset: 2, 4, 8 ; progress 40 -> reset: 2
    expect(s.gaps()).toEqual([2000, 4000, 8000, 2000, 4000, 8000, 2000])
    expect(updates).toEqual([0, 10, 40, 100])
  })

  it('honours a custom cap', async () => {
    const s = scripted([queued, queued, queued, queued, { status: 'completed', progress: 100 }])
    const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: { ...noJitter, capMs: 5000 } })
    await vi.advanceTimersByTimeAsync(60_000)
    await done
    expect(s.gaps()).toEqual([2000, 4000, 5000, 5000])
  })

  it('applies jitter within ±20 %', async () => {
    const s = scripted([queued, queued, queued, { status: 'completed', progress: 100 }])
    const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: { random: () => 0 } })
    await vi.advanceTimersByTimeAsync(60_000)
    await done
    expect(s.gaps()).toEqual([1600, 3200, 6400])
  })

  for (const [row, outcome] of [
    [{ status: 'completed', progress: 100, result: { summary: 'ok' } }, 'completed'],
    [{ status: 'failed', progress: 30, error: 'The job failed after 3 attempts.' }, 'failed'],
    [{ status: 'cancelled', progress: 50 }, 'cancelled'],
    [{ status: 'cancelled', progress: 0, error: 'expired' }, 'expired'],
  ] as const) {
    it(`finishes on ${outcome}`, async () => {
      const s = scripted([queued, at(20), row])
      const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter })
      await vi.advanceTimersByTimeAsync(10_000)
      const result = await done
      expect(result.outcome).toBe(outcome)
      expect(result.job.status).toBe(row.status)
      expect(s.calls).toHaveLength(3) // and no poll after the end
      await vi.advanceTimersByTimeAsync(60_000)
      expect(s.calls).toHaveLength(3)
    })
  }

  it('jobOutcome: running states are not finished', () => {
    expect(jobOutcome({ status: 'queued', error: null })).toBeNull()
    expect(jobOutcome({ status: 'processing', error: null })).toBeNull()
    expect(jobOutcome({ status: 'expired', error: null })).toBe('expired')
  })

  it('stops at once when aborted, with the abort reason, and polls no more', async () => {
    const s = scripted([queued])
    const controller = new AbortController()
    const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter, signal: controller.signal })
    const settled = expect(done).rejects.toMatchObject({ name: 'AbortError' })
    await vi.advanceTimersByTimeAsync(2500)
    expect(s.calls).toHaveLength(2)
    controller.abort()
    await settled
    await vi.advanceTimersByTimeAsync(60_000)
    expect(s.calls).toHaveLength(2)
  })

  it('an already aborted signal never polls', async () => {
    const s = scripted([queued])
    const controller = new AbortController()
    controller.abort()
    await expect(watchJob(null, 'job-1', { fetchJob: s.fetchJob, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(s.calls).toHaveLength(0)
  })

  it('keeps polling through retryable read errors, then gives up', async () => {
    const net = new TypeError('fetch failed')
    const s = scripted([queued, net, net, { status: 'completed', progress: 100 }])
    const done = watchJob(null, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter })
    await vi.advanceTimersByTimeAsync(60_000)
    expect((await done).outcome).toBe('completed')

    const always = scripted([net])
    const failing = watchJob(null, 'job-1', { fetchJob: always.fetchJob, backoff: noJitter, maxErrors: 3 })
    const settled = expect(failing).rejects.toMatchObject({ type: 'network' })
    await vi.advanceTimersByTimeAsync(60_000)
    await settled
    expect(always.calls).toHaveLength(3)
  })

  it('a non-retryable error (job not found) ends the watch', async () => {
    const notFound = new WayfareError({ code: 'NOT_FOUND', message: 'Job not found.', status: 404, type: 'not_found', field: 'job_id', retryable: false, requestId: null, hint: null, retryAfter: null, fromContract: false, details: null })
    const s = scripted([notFound])
    await expect(watchJob(null, 'job-1', { fetchJob: s.fetchJob })).rejects.toBe(notFound)
  })
})

/** A client whose Realtime channel reports `status` on subscribe, and can push row changes. */
function fakeRealtimeClient(status: 'SUBSCRIBED' | 'CHANNEL_ERROR') {
  const removed: unknown[] = []
  let push: () => void = () => {}
  const channel = {
    on(_event: string, _filter: unknown, cb: () => void) {
      push = cb
      return channel
    },
    subscribe(cb: (s: string) => void) {
      queueMicrotask(() => cb(status))
      return channel
    },
  }
  const client = {
    channel: () => channel,
    removeChannel: async (c: unknown) => {
      removed.push(c)
      return 'ok'
    },
  } as unknown as WayfareClient
  return { client, removed, push: () => push() }
}

describe('watchJob with Realtime', () => {
  it('falls back to polling when the channel fails (no Realtime) and removes it', async () => {
    const rt = fakeRealtimeClient('CHANNEL_ERROR')
    const s = scripted([queued, queued, queued, { status: 'completed', progress: 100 }])
    const done = watchJob(rt.client, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter })
    await vi.advanceTimersByTimeAsync(60_000)
    const result = await done
    expect(result.realtime).toBe(false)
    expect(s.gaps()).toEqual([2000, 4000, 8000])
    expect(rt.removed).toHaveLength(1)
  })

  it('when subscribed, a row change wakes it at once; polling slows to the cap', async () => {
    const rt = fakeRealtimeClient('SUBSCRIBED')
    const s = scripted([queued, queued, at(50), { status: 'completed', progress: 100 }])
    const done = watchJob(rt.client, 'job-1', { fetchJob: s.fetchJob, backoff: noJitter })
    await vi.advanceTimersByTimeAsync(0) // first poll + SUBSCRIBED (which wakes once)
    await vi.advanceTimersByTimeAsync(0)
    const before = s.calls.length
    await vi.advanceTimersByTimeAsync(3000) // no poll at 2 s: the cap (8 s) applies
    expect(s.calls.length).toBe(before)
    rt.push() // the row changed
    await vi.advanceTimersByTimeAsync(0)
    expect(s.calls.length).toBe(before + 1)
    rt.push()
    await vi.advanceTimersByTimeAsync(0)
    const result = await done
    expect(result).toMatchObject({ outcome: 'completed', realtime: true })
    expect(rt.removed).toHaveLength(1) // unsubscribed at the end
  })

  it('realtime: false never subscribes', async () => {
    const rt = fakeRealtimeClient('SUBSCRIBED')
    const spy = vi.spyOn(rt.client, 'channel')
    const s = scripted([{ status: 'completed', progress: 100 }])
    await watchJob(rt.client, 'job-1', { fetchJob: s.fetchJob, realtime: false })
    expect(spy).not.toHaveBeenCalled()
  })
})
