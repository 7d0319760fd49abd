import { useEffect, useState, type ReactElement } from 'react'
import { userMessage, type WayfareError } from '@wayfare/kit'

/** An error as docs/errors.md intends: what to do, a retry where it helps, the request id to quote. */
export function ErrorNotice(props: { error: WayfareError; onRetry?: () => void; onDismiss?: () => void }): ReactElement {
  const { error, onRetry, onDismiss } = props
  const [wait, setWait] = useState(error.retryAfter ?? 0)
  useEffect(() => {
    setWait(error.retryAfter ?? 0)
    if (!error.retryAfter) return
    const timer = setInterval(() => setWait((w) => (w > 0 ? w - 1 : 0)), 1000)
    return () => clearInterval(timer)
  }, [error])
  return (
    <div role="alert" className={`error error-${error.kind}`} data-code={error.code}>
      <p className="error-message">{userMessage(error)}</p>
      {error.field ? <p className="error-field">Field: {error.field}</p> : null}
      {error.requestId ? (
        <p className="error-request">
          Request id: <code data-testid="request-id">{error.requestId}</code> (quote it to support)
        </p>
      ) : null}
      <div className="error-actions">
        {onRetry && error.retryable ? (
          <button type="button" onClick={onRetry} disabled={wait > 0}>
            {wait > 0 ? `Retry in ${wait} s` : 'Retry'}
          </button>
        ) : null}
        {onDismiss ? <button type="button" onClick={onDismiss}>Dismiss</button> : null}
      </div>
    </div>
  )
}
