import { useState, type FormEvent, type ReactElement } from 'react'
import { newIdempotencyKey, rpc, type WayfareClient, type WayfareError } from '@wayfare/kit'
import { ProgressTracker, useJobStatus } from '@wayfare/kit/react'
import { ErrorNotice } from './ErrorNotice'

interface Started {
  jobId: string
  query: string
}

interface ResearchResult {
  summary?: string
  places?: { name: string; why?: string }[]
}

/** AI research: start, watch with live progress, cancel. Loaded lazily. */
export default function Research({ client }: { client: WayfareClient }): ReactElement {
  const [query, setQuery] = useState('')
  const [started, setStarted] = useState<Started[]>([])
  const [error, setError] = useState<WayfareError | null>(null)
  const [busy, setBusy] = useState(false)
  const [pending, setPending] = useState<{ query: string; key: string } | null>(null)

  async function start(q: string, key: string): Promise<void> {
    setBusy(true)
    const result = await rpc(client, 'start_research', { query: q }, { idempotencyKey: key })
    setBusy(false)
    if (result.error) {
      setError(result.error)
      setPending({ query: q, key })
      return
    }
    setError(null)
    setPending(null)
    setStarted((s) => [{ jobId: result.data.jobId, query: q }, ...s.filter((x) => x.jobId !== result.data.jobId)])
  }

  function submit(event: FormEvent): void {
    event.preventDefault()
    void start(query, newIdempotencyKey())
    setQuery('')
  }

  return (
    <section aria-labelledby="research-title" className="card">
      <h2 id="research-title">AI research</h2>
      <form onSubmit={submit} className="row" aria-label="New research">
        <label>
          What should we research? <input name="research-query" value={query} onChange={(e) => setQuery(e.target.value)} maxLength={500} />
        </label>
        <button type="submit" disabled={busy || !query.trim()}>Research</button>
      </form>
      {error ? <ErrorNotice error={error} onRetry={pending ? () => void start(pending.query, pending.key) : undefined} onDismiss={() => setError(null)} /> : null}
      <ul className="research">
        {started.map((s) => (
          <li key={s.jobId} data-testid="research" data-job-id={s.jobId}>
            <ResearchJob client={client} jobId={s.jobId} query={s.query} />
          </li>
        ))}
      </ul>
    </section>
  )
}

function ResearchJob({ client, jobId, query }: { client: WayfareClient; jobId: string; query: string }): ReactElement {
  const status = useJobStatus(client, jobId)
  const [cancelling, setCancelling] = useState(false)
  const [cancelError, setCancelError] = useState<WayfareError | null>(null)

  async function cancel(): Promise<void> {
    setCancelling(true)
    const result = await rpc(client, 'cancel_job', { job_id: jobId })
    if (result.error) {
      setCancelling(false)
      setCancelError(result.error)
    }
  }

  const result = status.outcome === 'completed' ? (status.job?.result as ResearchResult | null) : null
  return (
    <article>
      <h3>{query}</h3>
      <ProgressTracker
        label={`Research: ${query}`}
        job={status.job}
        outcome={status.outcome}
        error={status.error}
        onCancel={() => void cancel()}
        cancelling={cancelling}
      />
      {cancelError ? <ErrorNotice error={cancelError} onDismiss={() => setCancelError(null)} /> : null}
      {result ? (
        <div className="result">
          <p>{result.summary}</p>
          <ul>
            {(result.places ?? []).map((p) => (
              <li key={p.name}>
                <strong>{p.name}</strong>
                {p.why ? ` – ${p.why}` : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </article>
  )
}
