// @vitest-environment happy-dom
import { act, useEffect, type ReactElement } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WayfareError } from '../src/errors.js'
import { ProgressTracker, useCreateWithTempId, useJobStatus, type CreateWithTempIdApi } from '../src/react.js'
import type { JobSnapshot } from '../src/watchJob.js'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

let container: HTMLElement
let root: Root
beforeEach(() => {
  container = document.createElement('div')
  document.body.appendChild(container)
  root = createRoot(container)
})
afterEach(() => {
  act(() => root.unmount())
  container.remove()
  vi.useRealTimers()
})

const job = (p: Partial<JobSnapshot>): JobSnapshot => ({ id: 'j1', status: 'processing', progress: 0, error: null, ...p })

describe('<ProgressTracker>', () => {
  it('is a labelled progressbar with a live region and a keyboard-reachable Cancel', () => {
    const onCancel = vi.fn()
    act(() => root.render(<ProgressTracker label="Research" job={job({ progress: 42 })} onCancel={onCancel} />))
    const bar = container.querySelector('[role="progressbar"]')!
    expect(bar.getAttribute('aria-label')).toBe('Research')
    expect(bar.getAttribute('aria-valuenow')).toBe('42')
    expect(bar.getAttribute('aria-valuemin')).toBe('0')
    expect(bar.getAttribute('aria-valuemax')).toBe('100')
    const live = container.querySelector('[role="status"]')!
    expect(live.getAttribute('aria-live')).toBe('polite')
    expect(live.textContent).toBe('Research: 42 %')
    const button = container.querySelector('button')!
    expect(button.type).toBe('button') // a real button: focusable, Enter/Space activate it
    expect(button.tabIndex).toBe(0)
    button.focus()
    expect(document.activeElement).toBe(button)
    act(() => button.click())
    expect(onCancel).toHaveBeenCalledOnce()
  })

  it('says each end state and hides Cancel when finished', () => {
    const cases: [Partial<JobSnapshot>, string][] = [
      [{ status: 'queued', progress: 0 }, 'Research: Waiting to start…'],
      [{ status: 'processing', progress: 30, cancel_requested_at: 'now' }, 'Research: Cancelling… 30 %'],
      [{ status: 'completed', progress: 100 }, 'Research: Done.'],
      [{ status: 'failed', progress: 10, error: 'The job failed after 3 attempts.' }, 'Research: Failed: The job failed after 3 attempts.'],
      [{ status: 'cancelled', progress: 50 }, 'Research: Cancelled.'],
      [{ status: 'cancelled', progress: 0, error: 'expired' }, 'Research: Expired before it started.'],
    ]
    for (const [p, text] of cases) {
      act(() => root.render(<ProgressTracker label="Research" job={job(p)} onCancel={() => {}} />))
      expect(container.querySelector('[role="status"]')!.textContent).toBe(text)
      const finished = ['completed', 'failed', 'cancelled'].includes(p.status!)
      expect(container.querySelector('button') === null).toBe(finished)
    }
  })

  it('shows an error as the contract intends', () => {
    const error = new WayfareError({ code: 'RATE_LIMITED', message: 'Too many requests.', status: 429, type: 'rate_limit', field: null, retryable: true, requestId: 'r1234567', hint: null, retryAfter: 9, fromContract: true, details: null })
    act(() => root.render(<ProgressTracker label="Research" job={null} error={error} />))
    expect(container.querySelector('[role="status"]')!.textContent).toBe('Research: Too many requests: try again in 9 s.')
  })
})

describe('useJobStatus', () => {
  it('follows the job to the end and stops on unmount', async () => {
    vi.useFakeTimers()
    const states = [job({ status: 'queued' }), job({ progress: 50 }), job({ status: 'completed', progress: 100 })]
    let calls = 0
    const fetchJob = async () => states[Math.min(calls++, states.length - 1)]!
    const seen: (string | null)[] = []
    function View(): ReactElement {
      const s = useJobStatus(null, 'j1', { fetchJob, backoff: { random: () => 0.5 } })
      seen.push(s.outcome)
      return <ProgressTracker label="Job" job={s.job} outcome={s.outcome} error={s.error} />
    }
    await act(async () => root.render(<View />))
    expect(container.querySelector('[role="status"]')!.textContent).toBe('Job: Waiting to start…')
    await act(async () => vi.advanceTimersByTimeAsync(2000))
    expect(container.querySelector('[role="progressbar"]')!.getAttribute('aria-valuenow')).toBe('50')
    await act(async () => vi.advanceTimersByTimeAsync(2000))
    expect(container.querySelector('[role="status"]')!.textContent).toBe('Job: Done.')
    expect(seen.at(-1)).toBe('completed')
    expect(calls).toBe(3)
  })

  it('aborts the watch on unmount', async () => {
    vi.useFakeTimers()
    let calls = 0
    const fetchJob = async () => {
      calls++
      return job({ status: 'queued' })
    }
    function View(): ReactElement {
      useJobStatus(null, 'j1', { fetchJob })
      return <p>x</p>
    }
    await act(async () => root.render(<View />))
    await act(async () => root.render(<p>gone</p>))
    const before = calls
    await act(async () => vi.advanceTimersByTimeAsync(60_000))
    expect(calls).toBe(before)
  })
})

describe('useCreateWithTempId', () => {
  interface Row {
    id: string
    client_temp_id?: string | null
    title: string
  }
  it('shows the temp row, swaps it, rolls back a failure and retries it once', async () => {
    let api!: CreateWithTempIdApi<Row>
    function View(): ReactElement {
      api = useCreateWithTempId<Row>()
      useEffect(() => {}, [])
      return <ul>{api.items.map((i) => <li key={i.id} data-pending={String(!!i.pending)}>{i.id}</li>)}</ul>
    }
    await act(async () => root.render(<View />))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let p!: Promise<unknown>
    await act(async () => {
      p = api.create({ tempId: 'temp_a', optimistic: { title: 'A' }, create: async (t) => { await gate; return { data: { id: 'uuid-a', client_temp_id: t, title: 'A' }, error: null, status: 201, requestId: null, replayed: false } } })
    })
    expect(container.textContent).toBe('temp_a')
    await act(async () => { release(); await p })
    expect(container.textContent).toBe('uuid-a')

    const err = new WayfareError({ code: 'INTERNAL', message: 'x', status: 500, type: 'server', field: null, retryable: true, requestId: 'rid00001', hint: null, retryAfter: null, fromContract: true, details: null })
    let attempt = 0
    await act(async () => {
      await api.create({ tempId: 'temp_b', optimistic: { title: 'B' }, create: async (t) => (attempt++ === 0 ? { data: null, error: err, status: 500, requestId: 'rid00001', replayed: false } : { data: { id: 'uuid-b', client_temp_id: t, title: 'B' }, error: null, status: 201, requestId: null, replayed: false }) })
    })
    expect(container.textContent).toBe('uuid-a')
    expect(api.errors['temp_b']).toBe(err)
    await act(async () => { await api.retry('temp_b') })
    expect(container.textContent).toBe('uuid-auuid-b')
    expect(api.errors).toEqual({})
    expect(api.retry('temp_b')).toBeNull()
  })
})
