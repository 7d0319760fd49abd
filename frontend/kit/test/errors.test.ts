import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, errorKind, fromServiceError, fromUnknown, parseRetryAfter, toWayfareError, userMessage, type ServiceErrorBody } from '../src/errors.js'

const errorsDoc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8')

/** The codes table and each code's example body, read from docs/errors.md itself. */
type Example = Record<string, string | null> | ServiceErrorBody

/** PostgREST's four strings, from an example in either shape (PostgREST's, or the web service's). */
function asPostgrest(example: Example): Record<string, string | null> {
  if (!('error' in example) || typeof example.error !== 'object' || example.error === null) return example as Record<string, string | null>
  const { error, metadata } = example as ServiceErrorBody
  return {
    code: error.code ?? null, message: error.message ?? null, hint: null,
    details: JSON.stringify({ type: error.type, field: error.field ?? null, retryable: error.retryable, requestId: metadata?.requestId }),
  }
}

function documentedCodes(): { code: string; status: number; type: string; retryable: boolean; example: Record<string, string | null>; raw: Example }[] {
  const rows = [...errorsDoc.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (\w+) \| (yes|no) \|$/gm)]
  return rows.map(([, code, status, type, retryable]) => {
    const section = errorsDoc.split(`### ${code}\n`)[1] ?? ''
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1]
    if (!json) throw new Error(`no example for ${code} in docs/errors.md`)
    const raw = JSON.parse(json) as Example
    return { code: code!, status: Number(status), type: type!, retryable: retryable === 'yes', example: asPostgrest(raw), raw }
  })
}

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n.toLowerCase()] ?? null })

describe('error mapping: every code in docs/errors.md', () => {
  const docs = documentedCodes()

  it('reads the whole catalogue (at least the ten codes of the contract)', () => {
    expect(docs.length).toBeGreaterThanOrEqual(10)
    for (const { code, status, type, retryable } of docs) {
      expect(ERROR_CODES, `kit catalogue lacks ${code}`).toHaveProperty(code)
      const known = ERROR_CODES[code as keyof typeof ERROR_CODES]
      expect({ status: known.status, type: known.type, retryable: known.retryable }).toEqual({ status, type, retryable })
    }
  })

  for (const doc of documentedCodes()) {
    it(`${doc.code} (${doc.status}) from its documented body`, () => {
      const h = doc.code === 'RATE_LIMITED' ? headers({ 'retry-after': '42', 'x-request-id': 'hdr-id-1234' }) : headers({ 'x-request-id': 'hdr-id-1234' })
      const error = toWayfareError(doc.example, doc.status, h)
      const details = JSON.parse(doc.example.details as string)
      expect(error.code).toBe(doc.code)
      expect(error.status).toBe(doc.status)
      expect(error.type).toBe(doc.type)
      expect(error.retryable).toBe(doc.retryable)
      expect(error.field).toBe(details.field)
      expect(error.requestId).toBe(details.requestId) // details win over the header
      expect(error.fromContract).toBe(true)
      expect(error.message).toBe(doc.example.message)
      expect(error.hint).toBe(doc.example.hint)
      if ('error' in doc.raw) {
        // documented in the web service's shape: the kit reads that body too
        expect(fromServiceError(doc.raw as ServiceErrorBody, doc.status, h).toJSON()).toEqual(error.toJSON())
      }
      const text = userMessage(error)
      if (doc.code === 'RATE_LIMITED') {
        expect(error.retryAfter).toBe(42)
        expect(text).toBe('Too many requests: try again in 42 s.')
      } else if (doc.retryable) {
        expect(text).toMatch(/try again/)
      } else if (doc.type === 'auth' && doc.code === 'UNAUTHORIZED') {
        expect(text).toMatch(/Sign in required/)
      } else {
        expect(text).not.toMatch(/try again/)
      }
    })
  }

  it('kinds steer the UI', () => {
    const kinds = Object.fromEntries(documentedCodes().map((d) => [d.code, toWayfareError(d.example, d.status).kind]))
    expect(kinds).toMatchObject({
      VALIDATION_FAILED: 'field', UNAUTHORIZED: 'sign_in', FORBIDDEN: 'forbidden', NOT_FOUND: 'not_found',
      IDEMPOTENCY_KEY_INVALID: 'field', IDEMPOTENCY_KEY_REUSED: 'field', IDEMPOTENCY_KEY_IN_USE: 'retry',
      INVALID_STATE: 'conflict', RATE_LIMITED: 'retry', INTERNAL: 'retry',
    })
    if ('TIMEOUT' in kinds) expect(kinds['TIMEOUT']).toBe('retry')
  })

  it('one of our codes whose details were lost still maps by the catalogue', () => {
    const e = toWayfareError({ code: 'IDEMPOTENCY_KEY_IN_USE', message: 'busy', details: null, hint: null }, 409, headers({ 'x-request-id': 'rid-from-header' }))
    expect(e).toMatchObject({ type: 'conflict', retryable: true, requestId: 'rid-from-header', fromContract: false })
  })
})

describe('TIMEOUT and RATE_LIMITED say "try again (in N s)"', () => {
  it('TIMEOUT 408 from the contract', () => {
    const e = toWayfareError(
      { code: 'TIMEOUT', message: 'The request took too long.', details: '{"type":"timeout","field":null,"retryable":true,"requestId":"abcdefgh"}', hint: null },
      408,
    )
    expect(e).toMatchObject({ code: 'TIMEOUT', status: 408, type: 'timeout', retryable: true, requestId: 'abcdefgh' })
    expect(userMessage(e)).toBe('That took too long: try again.')
  })
  it('TIMEOUT with Retry-After', () => {
    const e = toWayfareError({ code: 'TIMEOUT', message: 'x', details: null, hint: null }, 408, headers({ 'retry-after': '3' }))
    expect(userMessage(e)).toBe('That took too long: try again in 3 s.')
  })
  it('RATE_LIMITED without Retry-After', () => {
    const e = toWayfareError({ code: 'RATE_LIMITED', message: 'Too many requests.', details: null, hint: null }, 429)
    expect(userMessage(e)).toBe('Too many requests: try again.')
  })
  it('a statement timeout that escaped as SQLSTATE 57014', () => {
    const e = toWayfareError({ code: '57014', message: 'canceling statement due to statement timeout', details: null, hint: null }, 500)
    expect(e).toMatchObject({ type: 'timeout', retryable: true })
  })
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('17')).toBe(17)
    expect(parseRetryAfter(null)).toBeNull()
    expect(parseRetryAfter('soon')).toBeNull()
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5)
  })
})

describe("PostgREST's own errors (details are not ours)", () => {
  const cases: [string, number, string, string, boolean, string][] = [
    ['PGRST301', 401, 'JWSError JWSInvalidSignature', 'auth', false, 'sign_in'],
    ['PGRST303', 401, 'JWT expired', 'auth', false, 'sign_in'],
    ['PGRST202', 404, 'Could not find the function public.create_trip(tittle) in the schema cache', 'client', false, 'client'],
    ['PGRST102', 400, 'Empty or invalid json', 'client', false, 'client'],
    ['PGRST116', 406, 'JSON object requested, multiple (or no) rows returned', 'not_found', false, 'not_found'],
    ['PGRST003', 504, 'Timed out acquiring connection from connection pool.', 'timeout', true, 'retry'],
    ['22007', 400, 'invalid input syntax for type date: "tomorrow"', 'validation', false, 'field'],
    ['22008', 400, 'date/time field value out of range: "2027-13-45"', 'validation', false, 'field'],
    ['22P02', 400, 'invalid input syntax for type uuid: "nope"', 'validation', false, 'field'],
    ['22P05', 400, 'unsupported Unicode escape sequence', 'validation', false, 'field'],
  ]
  for (const [code, status, message, type, retryable, kind] of cases) {
    it(`${code} ${status}`, () => {
      const details = code === 'PGRST202' ? 'Searched for the function public.create_trip with parameter tittle' : null
      const e = toWayfareError({ code, message, details, hint: null }, status, headers({ 'x-request-id': 'from-header-01' }))
      expect(e).toMatchObject({ code, status, type, retryable, fromContract: false, field: null, requestId: 'from-header-01' })
      expect(errorKind(e)).toBe(kind)
      expect(userMessage(e).length).toBeGreaterThan(5)
    })
  }
  it('an expired JWT asks to sign in', () => {
    expect(userMessage(toWayfareError({ code: 'PGRST303', message: 'JWT expired', details: null, hint: null }, 401))).toMatch(/Sign in required/)
  })
  it('unknown 5xx from a gateway is retryable, unknown 4xx is not', () => {
    expect(toWayfareError({ message: 'Bad Gateway' }, 502).retryable).toBe(true)
    expect(toWayfareError({ message: 'Teapot' }, 418)).toMatchObject({ type: 'client', retryable: false })
  })
  it('a failed fetch (status 0) is a retryable network error', () => {
    const e = toWayfareError({ code: '', message: 'TypeError: fetch failed', details: 'x', hint: '' }, 0)
    expect(e).toMatchObject({ code: 'NETWORK', type: 'network', retryable: true })
    expect(userMessage(e)).toBe('Cannot reach the server: try again.')
    expect(fromUnknown(new TypeError('Failed to fetch'))).toMatchObject({ type: 'network', retryable: true })
  })
})
