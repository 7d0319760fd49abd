/** React entry of @wayfare/kit: useJobStatus, <ProgressTracker>, useCreateWithTempId. */
import { useCallback, useEffect, useReducer, useRef, useState, type ReactElement } from 'react'
import { userMessage, type WayfareError, fromUnknown } from './errors.js'
import {
  createWithTempId,
  emptyOptimistic,
  optimisticReducer,
  type CreateWithTempIdOptions,
  type CreateWithTempIdResult,
  type Identified,
  type OptimisticState,
} from './optimistic.js'
import type { JobOutcome, WayfareClient } from './types.js'
import { jobOutcome, watchJob, type JobSnapshot, type WatchJobOptions } from './watchJob.js'

export interface JobStatusState {
  job: JobSnapshot | null
  outcome: JobOutcome | null
  error: WayfareError | null
  /** True while the job is being watched. */
  watching: boolean
}

/** Watch a job (null: nothing to watch). Stops on unmount or when jobId changes. */
export function useJobStatus(
  client: WayfareClient | null,
  jobId: string | null,
  options: Omit<WatchJobOptions, 'signal' | 'onUpdate'> = {},
): JobStatusState {
  const [state, setState] = useState<JobStatusState>({ job: null, outcome: null, error: null, watching: false })
  const optionsRef = useRef(options)
  optionsRef.current = options
  useEffect(() => {
    if (!jobId) {
      setState({ job: null, outcome: null, error: null, watching: false })
      return
    }
    const controller = new AbortController()
    setState({ job: null, outcome: null, error: null, watching: true })
    watchJob(client, jobId, {
      ...optionsRef.current,
      signal: controller.signal,
      onUpdate: (job) => {
        if (!controller.signal.aborted) setState({ job, outcome: jobOutcome(job), error: null, watching: true })
      },
    }).then(
      ({ job, outcome }) => {
        if (!controller.signal.aborted) setState({ job, outcome, error: null, watching: false })
      },
      (thrown: unknown) => {
        if (controller.signal.aborted) return
        setState((s) => ({ ...s, error: fromUnknown(thrown), watching: false }))
      },
    )
    return () => controller.abort()
  }, [client, jobId])
  return state
}

const OUTCOME_TEXT: Record<JobOutcome, string> = {
  completed: 'Done.',
  failed: 'Failed.',
  cancelled: 'Cancelled.',
  expired: 'Expired before it started.',
}

export interface ProgressTrackerProps {
  /** What is running, e.g. "Researching Lisbon". Names the progress bar. */
  label: string
  job: JobSnapshot | null
  outcome?: JobOutcome | null
  error?: WayfareError | null
  /** Shown as a keyboard-reachable Cancel button while the job runs. */
  onCancel?: () => void
  cancelling?: boolean
  className?: string
}

/** An accessible progress bar: role=progressbar with aria-value*, a polite live region, a Cancel button. */
export function ProgressTracker(props: ProgressTrackerProps): ReactElement {
  const { label, job, error, onCancel, cancelling } = props
  const outcome = props.outcome ?? (job ? jobOutcome(job) : null)
  const progress = Math.max(0, Math.min(100, Math.round(job?.progress ?? 0)))
  const running = !outcome && !error
  let text: string
  if (error) text = userMessage(error)
  else if (outcome) text = outcome === 'failed' && job?.error ? `Failed: ${job.error}` : OUTCOME_TEXT[outcome]
  else if (cancelling || job?.cancel_requested_at) text = `Cancelling… ${progress} %`
  else if (!job || job.status === 'queued') text = 'Waiting to start…'
  else text = `${progress} %`
  return (
    <div className={props.className ?? 'wf-progress'} data-status={outcome ?? job?.status ?? 'starting'}>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress}
        aria-valuetext={`${progress} %`}
        className="wf-progress-track"
      >
        <div className="wf-progress-fill" style={{ width: `${progress}%` }} />
      </div>
      <p role="status" aria-live="polite" aria-atomic="true" className="wf-progress-text">
        {label}: {text}
      </p>
      {onCancel && running ? (
        <button type="button" onClick={onCancel} disabled={cancelling} aria-label={`Cancel ${label}`}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      ) : null}
    </div>
  )
}

export interface CreateWithTempIdApi<T extends Identified> {
  state: OptimisticState<T>
  items: OptimisticState<T>['items']
  errors: OptimisticState<T>['errors']
  /** Show the temp row, create, swap or roll back. */
  create: (options: CreateWithTempIdOptions<T>) => Promise<CreateWithTempIdResult<T>>
  /** Run a failed creation again with the same temp id (and whatever key its create closes over). */
  retry: (tempId: string) => Promise<CreateWithTempIdResult<T>> | null
  load: (rows: T[]) => void
  remove: (id: string) => void
  dismiss: (tempId: string) => void
}

/** Optimistic list state for rows created with temp ids. */
export function useCreateWithTempId<T extends Identified>(initial: T[] = []): CreateWithTempIdApi<T> {
  const [state, dispatch] = useReducer(optimisticReducer<T>, initial, (rows: T[]) => emptyOptimistic<T>(rows))
  const attempts = useRef(new Map<string, CreateWithTempIdOptions<T>>())
  const create = useCallback((options: CreateWithTempIdOptions<T>) => {
    return createWithTempId<T>(dispatch, options).then((result) => {
      if (result.error) attempts.current.set(result.tempId, { ...options, tempId: result.tempId })
      else attempts.current.delete(result.tempId)
      return result
    })
  }, [])
  const retry = useCallback(
    (tempId: string) => {
      const options = attempts.current.get(tempId)
      return options ? create(options) : null
    },
    [create],
  )
  const load = useCallback((rows: T[]) => dispatch({ type: 'load', rows }), [])
  const remove = useCallback((id: string) => dispatch({ type: 'remove', id }), [])
  const dismiss = useCallback((tempId: string) => {
    attempts.current.delete(tempId)
    dispatch({ type: 'dismiss', tempId })
  }, [])
  return { state, items: state.items, errors: state.errors, create, retry, load, remove, dismiss }
}
