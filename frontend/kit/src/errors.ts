/**
 * The error contract (docs/errors.md) as a typed value.
 *
 * PostgREST answers every error with four strings: code, message, details, hint. Our own errors
 * (raised by private.raise_error) carry a JSON object in `details`: {type, field, retryable,
 * requestId}. PostgREST's own errors (PGRST..., or a PostgreSQL SQLSTATE such as 22P02) keep
 * PostgREST's format and their `details` are not ours: they are classified here by code.
 */

/** Every code in docs/errors.md, plus TIMEOUT (408, statement timeouts) and the client's own NETWORK. */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, type: 'validation', retryable: false },
  UNAUTHORIZED: { status: 401, type: 'auth', retryable: false },
  FORBIDDEN: { status: 403, type: 'auth', retryable: false },
  NOT_FOUND: { status: 404, type: 'not_found', retryable: false },
  IDEMPOTENCY_KEY_INVALID: { status: 400, type: 'validation', retryable: false },
  IDEMPOTENCY_KEY_REUSED: { status: 422, type: 'validation', retryable: false },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, type: 'conflict', retryable: true },
  INVALID_STATE: { status: 409, type: 'conflict', retryable: false },
  TIMEOUT: { status: 408, type: 'timeout', retryable: true },
  RATE_LIMITED: { status: 429, type: 'rate_limit', retryable: true },
  INTERNAL: { status: 500, type: 'server', retryable: true },
} as const

export type WayfareCode = keyof typeof ERROR_CODES
export type ErrorType =
  | (typeof ERROR_CODES)[WayfareCode]['type']
  | 'network'

/** What the user should be shown / what the UI should do. */
export type ErrorKind =
  | 'sign_in' // sign in again (401, bad or expired JWT)
  | 'forbidden'
  | 'field' // a field is wrong: show it next to the field
  | 'not_found'
  | 'conflict' // not allowed in the current state
  | 'retry' // try again (now, or after retryAfter seconds)
  | 'client' // a bug in the client (unknown function, malformed request)
  | 'server'

export interface PostgrestErrorLike {
  code?: string | null
  message?: string | null
  details?: string | null
  hint?: string | null
}

export interface WayfareErrorInit {
  code: string
  message: string
  status: number
  type: ErrorType | 'client'
  field: string | null
  retryable: boolean
  requestId: string | null
  hint: string | null
  retryAfter: number | null
  /** true when `details` was our JSON (raised by private.raise_error). */
  fromContract: boolean
  /** `details` as PostgREST sent it. */
  details: string | null
}

export class WayfareError extends Error implements WayfareErrorInit {
  readonly code: string
  readonly status: number
  readonly type: ErrorType | 'client'
  readonly field: string | null
  readonly retryable: boolean
  readonly requestId: string | null
  readonly hint: string | null
  readonly retryAfter: number | null
  readonly fromContract: boolean
  readonly details: string | null

  constructor(init: WayfareErrorInit) {
    super(init.message)
    this.name = 'WayfareError'
    this.code = init.code
    this.status = init.status
    this.type = init.type
    this.field = init.field
    this.retryable = init.retryable
    this.requestId = init.requestId
    this.hint = init.hint
    this.retryAfter = init.retryAfter
    this.fromContract = init.fromContract
    this.details = init.details
  }

  get kind(): ErrorKind {
    return errorKind(this)
  }

  toJSON(): WayfareErrorInit & { name: string } {
    return {
      name: this.name, code: this.code, message: this.message, status: this.status,
      type: this.type, field: this.field, retryable: this.retryable, requestId: this.requestId,
      hint: this.hint, retryAfter: this.retryAfter, fromContract: this.fromContract,
      details: this.details,
    }
  }
}

export function isWayfareError(value: unknown): value is WayfareError {
  return value instanceof WayfareError
}

interface ContractDetails {
  type?: unknown
  field?: unknown
  retryable?: unknown
  requestId?: unknown
}

function parseDetails(details: string | null | undefined): ContractDetails | null {
  if (!details || details[0] !== '{') return null
  try {
    const parsed: unknown = JSON.parse(details)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'type' in parsed) {
      return parsed as ContractDetails
    }
  } catch {
    /* PostgREST's own details are plain text */
  }
  return null
}

/** Parse a Retry-After header: whole seconds (or an HTTP date), null when absent or invalid. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value == null || value.trim() === '') return null
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return null
  return Math.max(0, Math.ceil((at - now) / 1000))
}

/** PostgREST's own codes (and SQLSTATEs it passes through) that a client can meet. */
const POSTGREST_CODES: Record<string, { type: ErrorType | 'client'; retryable: boolean }> = {
  PGRST301: { type: 'auth', retryable: false }, // bad JWT
  PGRST302: { type: 'auth', retryable: false }, // anonymous access disabled
  PGRST303: { type: 'auth', retryable: false }, // JWT claims invalid / expired
  PGRST202: { type: 'client', retryable: false }, // function or argument names unknown
  PGRST203: { type: 'client', retryable: false }, // ambiguous overload
  PGRST100: { type: 'client', retryable: false }, // bad query string
  PGRST102: { type: 'client', retryable: false }, // malformed JSON body
  PGRST116: { type: 'not_found', retryable: false }, // .single() with 0 (or >1) rows
  PGRST000: { type: 'server', retryable: true }, // database unreachable
  PGRST001: { type: 'server', retryable: true },
  PGRST002: { type: 'server', retryable: true }, // schema cache not loaded yet
  PGRST003: { type: 'timeout', retryable: true }, // pool acquisition timeout
}

/** Build a WayfareError from PostgREST's error body, the HTTP status and the response headers. */
export function toWayfareError(
  error: PostgrestErrorLike,
  status: number,
  headers?: { get(name: string): string | null } | null,
): WayfareError {
  const code = error.code ?? ''
  const message = error.message ?? 'Request failed.'
  const details = error.details ?? null
  const hint = error.hint ?? null
  const headerRequestId = headers?.get('x-request-id') ?? null
  const retryAfter = parseRetryAfter(headers?.get('retry-after'))
  const ours = parseDetails(details)
  const known = (ERROR_CODES as Record<string, (typeof ERROR_CODES)[WayfareCode]>)[code]

  if (ours) {
    return new WayfareError({
      code, message, hint, details, retryAfter,
      status: status || known?.status || 500,
      type: (typeof ours.type === 'string' ? ours.type : known?.type ?? 'server') as ErrorType,
      field: typeof ours.field === 'string' ? ours.field : null,
      retryable: typeof ours.retryable === 'boolean' ? ours.retryable : known?.retryable ?? false,
      requestId: typeof ours.requestId === 'string' ? ours.requestId : headerRequestId,
      fromContract: true,
    })
  }
  if (known) {
    // one of our codes whose details did not survive (a proxy, a test double): the catalogue decides
    return new WayfareError({
      code, message, hint, details, retryAfter, status: status || known.status, type: known.type,
      field: null, retryable: known.retryable, requestId: headerRequestId, fromContract: false,
    })
  }
  const base = { code, message, hint, details, retryAfter, requestId: headerRequestId, fromContract: false, field: null }
  const pgrst = POSTGREST_CODES[code]
  if (pgrst) return new WayfareError({ ...base, status, ...pgrst })
  if (code === '57014') {
    // statement timeout (canceling statement due to statement timeout)
    return new WayfareError({ ...base, status, type: 'timeout', retryable: true })
  }
  if (/^22/.test(code) || code === '23502' || code === '23514') {
    // a value that cannot be cast to the argument's type (22007/22008 dates, 22P02 uuid, 22P05 NUL)
    return new WayfareError({ ...base, status: status || 400, type: 'validation', retryable: false })
  }
  if (status === 0 || (!code && /fetch|network|Failed to fetch/i.test(message))) {
    return new WayfareError({ ...base, code: code || 'NETWORK', status: 0, type: 'network', retryable: true })
  }
  if (status === 401) return new WayfareError({ ...base, status, type: 'auth', retryable: false })
  if (status === 403) return new WayfareError({ ...base, status, type: 'auth', retryable: false })
  if (status === 408) return new WayfareError({ ...base, status, type: 'timeout', retryable: true })
  if (status === 429) return new WayfareError({ ...base, status, type: 'rate_limit', retryable: true })
  if (status >= 500 || !status) return new WayfareError({ ...base, status: status || 500, type: 'server', retryable: status === 502 || status === 503 || status === 504 || !status })
  return new WayfareError({ ...base, status, type: 'client', retryable: false })
}

/** The web service's error body (`/webhooks/stripe`, `/ops`, ...; docs/errors.md "From the web service"). */
export interface ServiceErrorBody {
  error: { type?: string; code?: string; message?: string; field?: string | null; retryable?: boolean }
  metadata?: { requestId?: string; traceId?: string; timestamp?: string }
}

/** Build a WayfareError from the web service's `{error, metadata}` body. */
export function fromServiceError(
  body: ServiceErrorBody,
  status: number,
  headers?: { get(name: string): string | null } | null,
): WayfareError {
  const e = body.error
  const details = JSON.stringify({ type: e.type, field: e.field ?? null, retryable: e.retryable, requestId: body.metadata?.requestId ?? null })
  return toWayfareError({ code: e.code ?? '', message: e.message ?? '', details, hint: null }, status, headers)
}

/** Wrap anything thrown (fetch TypeError, AbortError) as a WayfareError. */
export function fromUnknown(thrown: unknown): WayfareError {
  if (thrown instanceof WayfareError) return thrown
  const message = thrown instanceof Error ? thrown.message : String(thrown)
  return new WayfareError({
    code: 'NETWORK', message: message || 'Network error.', status: 0, type: 'network', field: null,
    retryable: true, requestId: null, hint: null, retryAfter: null, fromContract: false, details: null,
  })
}

export function errorKind(e: Pick<WayfareError, 'type' | 'retryable' | 'field' | 'code'>): ErrorKind {
  switch (e.type) {
    case 'auth':
      return e.code === 'FORBIDDEN' ? 'forbidden' : 'sign_in'
    case 'validation':
      return 'field'
    case 'not_found':
      return 'not_found'
    case 'conflict':
      return e.retryable ? 'retry' : 'conflict'
    case 'rate_limit':
    case 'timeout':
    case 'network':
      return 'retry'
    case 'client':
      return 'client'
    default:
      return e.retryable ? 'retry' : 'server'
  }
}

/**
 * The sentence a user sees. Retryable errors say "try again" (with "in N s" when the server
 * said how long, as RATE_LIMITED's Retry-After does). The request id is not part of it: show
 * `error.requestId` beside it ("quote this to support").
 */
export function userMessage(e: WayfareError): string {
  switch (errorKind(e)) {
    case 'sign_in':
      return 'Sign in required. Please sign in again.'
    case 'forbidden':
      return 'You do not have permission to do this.'
    case 'field':
      return e.fromContract ? e.message : `Please check ${e.field ?? 'the values you entered'}: ${e.message}`
    case 'not_found':
      return e.fromContract ? e.message : 'Not found.'
    case 'conflict':
      return e.fromContract ? e.message : 'This action is not allowed right now.'
    case 'client':
      return 'Something is wrong with this app version. Please reload the page.'
    case 'retry': {
      const when = e.retryAfter != null ? `try again in ${e.retryAfter} s` : 'try again'
      if (e.type === 'rate_limit') return `Too many requests: ${when}.`
      if (e.type === 'timeout') return `That took too long: ${when}.`
      if (e.type === 'network') return `Cannot reach the server: ${when}.`
      if (e.type === 'conflict') return `Still working on your previous request: ${when}.`
      return `Something went wrong on our side: ${when}.`
    }
    default:
      return 'Something went wrong on our side.'
  }
}
