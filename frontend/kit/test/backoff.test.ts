import { describe, expect, it, vi } from 'vitest'
import { backoffDelay, sleep } from '../src/backoff.js'

const noJitter = { random: () => 0.5 }

describe('backoffDelay', () => {
  it('2 s -> 4 s -> 8 s, then stays at the cap', () => {
    expect([0, 1, 2, 3, 4, 10, 1000].map((a) => backoffDelay(a, noJitter))).toEqual([2000, 4000, 8000, 8000, 8000, 8000, 8000])
  })
  it('a larger cap lets it grow, and still caps', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, { ...noJitter, capMs: 20_000 }))).toEqual([2000, 4000, 8000, 16000, 20000, 20000])
  })
  it('jitter spreads each delay by ±20 % and never exceeds the cap', () => {
    expect(backoffDelay(0, { random: () => 0 })).toBe(1600)
    expect(backoffDelay(0, { random: () => 0.999999 })).toBe(2400)
    expect(backoffDelay(1, { random: () => 0 })).toBe(3200)
    for (let i = 0; i < 2000; i++) {
      const attempt = i % 8
      const d = backoffDelay(attempt)
      const raw = Math.min(2000 * 2 ** attempt, 8000)
      expect(d).toBeGreaterThanOrEqual(raw * 0.8 - 1)
      expect(d).toBeLessThanOrEqual(8000)
    }
  })
  it('jitter actually varies the delays', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(1)))
    expect(seen.size).toBeGreaterThan(5)
  })
  it('negative or fractional attempts behave as the first ones', () => {
    expect(backoffDelay(-3, noJitter)).toBe(2000)
    expect(backoffDelay(1.7, noJitter)).toBe(4000)
  })
})

describe('sleep', () => {
  it('waits, wakes early, and rejects on abort', async () => {
    vi.useFakeTimers()
    try {
      let done = false
      const p = sleep(1000).then(() => (done = true))
      await vi.advanceTimersByTimeAsync(999)
      expect(done).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await p
      expect(done).toBe(true)

      let wake!: () => void
      const woken = sleep(60_000, undefined, new Promise<void>((r) => (wake = r)))
      wake()
      await woken

      const controller = new AbortController()
      const aborted = sleep(60_000, controller.signal)
      controller.abort()
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
      await expect(sleep(1, controller.signal)).rejects.toMatchObject({ name: 'AbortError' })
    } finally {
      vi.useRealTimers()
    }
  })
})
