/**
 * Watch a job until it finishes: polling `jobs?id=eq.<id>` with backoff (2 -> 4 -> 8 s, jitter,
 * a cap), reset to the first delay whenever the job moves (status or progress), stopped by an
 * AbortSignal. Where the project has Realtime, a subscription to the job's row wakes the loop at
 * once and polling slows to the cap as a safety net; when the channel fails (the local stack has
 * no Realtime) it is removed and polling carries on alone.
 */
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js'
import { toWayfareError, fromUnknown, WayfareError } from './errors.js'
import type { JobOutcome, JobStatus, WayfareClient } from './types.js'

export const JOB_COLUMNS = 'id, type, status, progress, result, error, cancel_requested_at, completed_at, attempts'

export interface JobSnapshot {
  id: string
  type?: string
  status: JobStatus | string
  progress: number
  result?: unknown
  error?: string | null
  cancel_requested_at?: string | null
  completed_at?: string | null
  attempts?: number
}

export const TERMINAL_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled', 'expired']

/** The outcome of a finished job, or null while it runs. */
export function jobOutcome(job: Pick<JobSnapshot, 'status' | 'error'>): JobOutcome | null {
  if (job.status === 'expired' || (job.status === 'cancelled' && job.error === 'expired')) return 'expired'
  if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') return job.status
  return null
}

export interface WatchJobOptions {
  signal?: AbortSignal
  /** Called with every new state of the job (first poll included). */
  onUpdate?: (job: JobSnapshot) => void
  backoff?: BackoffOptions
  /** 'auto' (default): subscribe where possible, else poll; false: poll only. */
  realtime?: 'auto' | false
  /** Override how the job is read (tests, other transports). Default: the jobs table through PostgREST. */
  fetchJob?: (jobId: string, signal?: AbortSignal) => Promise<JobSnapshot>
  /** Give up after this many consecutive retryable read errors (default 8). */
  maxErrors?: number
}

export interface WatchJobResult {
  job: JobSnapshot
  outcome: JobOutcome
  /** Polls made (the first one included). */
  polls: number
  /** Whether a Realtime channel was subscribed at the end. */
  realtime: boolean
}

async function readJob(client: WayfareClient, jobId: string, signal?: AbortSignal): Promise<JobSnapshot> {
  let query = client.from('jobs').select(JOB_COLUMNS).eq('id', jobId)
  if (signal) query = query.abortSignal(signal)
  const { data, error, status } = await query.maybeSingle()
  if (error) throw toWayfareError(error, status)
  if (!data) {
    throw new WayfareError({
      code: 'NOT_FOUND', message: 'Job not found.', status: 404, type: 'not_found', field: 'job_id',
      retryable: false, requestId: null, hint: null, retryAfter: null, fromContract: false, details: null,
    })
  }
  return data as unknown as JobSnapshot
}

function changed(a: JobSnapshot | null, b: JobSnapshot): boolean {
  return !a || a.status !== b.status || a.progress !== b.progress || a.cancel_requested_at !== b.cancel_requested_at
}

/** Resolve when the job is completed, failed, cancelled or expired; reject on abort or a lasting error. */
export async function watchJob(
  client: WayfareClient | null,
  jobId: string,
  options: WatchJobOptions = {},
): Promise<WatchJobResult> {
  const { signal, onUpdate } = options
  const fetchJob = options.fetchJob ?? ((id: string, s?: AbortSignal) => readJob(client as WayfareClient, id, s))
  const capMs = options.backoff?.capMs ?? 8000
  const maxErrors = options.maxErrors ?? 8

  let wake: () => void = () => {}
  let wakeup = new Promise<void>((r) => (wake = r))
  let subscribed = false
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let channel: any = null
  const useRealtime = options.realtime !== false && client && typeof client.channel === 'function'
  if (useRealtime) {
    try {
      channel = client
        .channel(`wayfare-job-${jobId}-${Math.random().toString(36).slice(2)}`)
        .on('postgres_changes', { event: '*', schema: 'public', table: 'jobs', filter: `id=eq.${jobId}` }, () => wake())
        .subscribe((status: string) => {
          if (status === 'SUBSCRIBED') {
            subscribed = true
            wake()
          } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT' || status === 'CLOSED') {
            subscribed = false
            const c = channel
            channel = null
            if (c) void client.removeChannel(c).catch(() => {}) // no Realtime here: poll
          }
        })
    } catch {
      channel = null
    }
  }
  const cleanup = (): void => {
    if (channel && client) void client.removeChannel(channel).catch(() => {})
    channel = null
  }

  let last: JobSnapshot | null = null
  let attempt = 0
  let polls = 0
  let errors = 0
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
      let job: JobSnapshot | null = null
      try {
        polls += 1
        job = await fetchJob(jobId, signal)
        errors = 0
      } catch (thrown) {
        if (signal?.aborted) throw signal.reason ?? thrown
        const error = fromUnknown(thrown)
        errors += 1
        if (!error.retryable || errors >= maxErrors) throw error
      }
      if (job) {
        if (changed(last, job)) {
          attempt = 0 // progress: back to the first delay
          onUpdate?.(job)
        }
        last = job
        const outcome = jobOutcome(job)
        if (outcome) return { job, outcome, polls, realtime: subscribed }
      }
      const delay = subscribed ? capMs : backoffDelay(attempt, options.backoff)
      attempt += 1
      await sleep(delay, signal, wakeup)
      wakeup = new Promise<void>((r) => (wake = r))
    }
  } finally {
    cleanup()
  }
}
