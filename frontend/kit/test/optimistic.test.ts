import { describe, expect, it } from 'vitest'
import { WayfareError } from '../src/errors.js'
import {
  createWithTempId,
  emptyOptimistic,
  isTempId,
  newTempId,
  optimisticReducer,
  type OptimisticAction,
  type OptimisticState,
} from '../src/optimistic.js'
import type { RpcResult } from '../src/rpc.js'

interface Row {
  id: string
  client_temp_id?: string | null
  title: string
}

const rateLimited = new WayfareError({
  code: 'RATE_LIMITED', message: 'Too many requests.', status: 429, type: 'rate_limit', field: null,
  retryable: true, requestId: 'req-12345678', hint: null, retryAfter: 30, fromContract: true, details: null,
})

function store(rows: Row[] = []) {
  let state: OptimisticState<Row> = emptyOptimistic(rows)
  const seen: OptimisticState<Row>[] = []
  const dispatch = (a: OptimisticAction<Row>) => {
    state = optimisticReducer(state, a)
    seen.push(state)
  }
  return { dispatch, get state() { return state }, seen }
}

const ok = (row: Row, status = 201): RpcResult<Row> => ({ data: row, error: null, status, requestId: 'r', replayed: false })
const fail = (error: WayfareError): RpcResult<Row> => ({ data: null, error, status: error.status, requestId: error.requestId, replayed: false })

describe('temp ids', () => {
  it('have the shape create_trip accepts', () => {
    const id = newTempId()
    expect(id).toMatch(/^temp_[A-Za-z0-9-]{1,64}$/)
    expect(isTempId(id)).toBe(true)
    expect(isTempId('4f1c0b7e-8f6d-4c1e-9d3a-2b5e6f7a8b9c')).toBe(false)
    expect(newTempId()).not.toBe(id)
  })
})

describe('optimisticReducer', () => {
  it('success: the temp row shows at once, then is swapped for the canonical one in place', async () => {
    const s = store([{ id: 'a', title: 'Existing' }])
    let resolve!: (r: RpcResult<Row>) => void
    const pending = createWithTempId<Row>(s.dispatch, {
      tempId: 'temp_1', optimistic: { title: 'Lisbon' }, create: () => new Promise((r) => (resolve = r)),
    })
    expect(s.state.items).toEqual([
      { id: 'a', title: 'Existing', pending: false },
      { id: 'temp_1', client_temp_id: 'temp_1', title: 'Lisbon', pending: true },
    ])
    resolve(ok({ id: 'uuid-1', client_temp_id: 'temp_1', title: 'Lisbon' }))
    const result = await pending
    expect(result).toMatchObject({ tempId: 'temp_1', status: 201, data: { id: 'uuid-1' } })
    expect(s.state.items).toEqual([
      { id: 'a', title: 'Existing', pending: false },
      { id: 'uuid-1', client_temp_id: 'temp_1', title: 'Lisbon', pending: false },
    ])
    expect(s.state.items.some((i) => isTempId(i.id))).toBe(false)
  })

  it('failure: the temp row is rolled back and the error kept under its temp id', async () => {
    const s = store()
    const result = await createWithTempId<Row>(s.dispatch, { tempId: 'temp_2', optimistic: { title: 'Porto' }, create: async () => fail(rateLimited) })
    expect(s.seen[0]!.items).toHaveLength(1) // it was shown
    expect(s.state.items).toEqual([])
    expect(s.state.errors).toEqual({ temp_2: rateLimited })
    expect(result.error).toBe(rateLimited)
  })

  it('a create that throws is rolled back as a network error', async () => {
    const s = store()
    const result = await createWithTempId<Row>(s.dispatch, { tempId: 'temp_x', optimistic: { title: 'X' }, create: async () => { throw new TypeError('fetch failed') } })
    expect(s.state.items).toEqual([])
    expect(result.error).toMatchObject({ type: 'network', retryable: true })
    expect(s.state.errors['temp_x']).toBe(result.error)
  })

  it('retry after failure: same temp id, one row, error cleared', async () => {
    const s = store()
    await createWithTempId<Row>(s.dispatch, { tempId: 'temp_3', optimistic: { title: 'Faro' }, create: async () => fail(rateLimited) })
    await createWithTempId<Row>(s.dispatch, {
      tempId: 'temp_3', optimistic: { title: 'Faro' }, create: async () => ok({ id: 'uuid-3', client_temp_id: 'temp_3', title: 'Faro' }),
    })
    expect(s.state.items).toEqual([{ id: 'uuid-3', client_temp_id: 'temp_3', title: 'Faro', pending: false }])
    expect(s.state.errors).toEqual({})
  })

  it('retry while the first is in flight (double click): never two rows', async () => {
    const s = store()
    const row = { id: 'uuid-4', client_temp_id: 'temp_4', title: 'Sintra' }
    const first = createWithTempId<Row>(s.dispatch, { tempId: 'temp_4', optimistic: { title: 'Sintra' }, create: async () => ok(row, 201) })
    const second = createWithTempId<Row>(s.dispatch, { tempId: 'temp_4', optimistic: { title: 'Sintra' }, create: async () => ok(row, 200) })
    expect(s.state.items).toHaveLength(1)
    await Promise.all([first, second])
    expect(s.state.items).toEqual([{ ...row, pending: false }])
  })

  it('retry after a lost response (server answers 200 with the existing row): one row', () => {
    const row = { id: 'uuid-5', client_temp_id: 'temp_5', title: 'Evora' }
    let state = emptyOptimistic<Row>()
    state = optimisticReducer(state, { type: 'add', tempId: 'temp_5', row: { title: 'Evora' } })
    state = optimisticReducer(state, { type: 'confirm', tempId: 'temp_5', row })
    state = optimisticReducer(state, { type: 'add', tempId: 'temp_5', row: { title: 'Evora' } }) // retry of a confirmed one
    expect(state.items).toHaveLength(1)
    state = optimisticReducer(state, { type: 'confirm', tempId: 'temp_5', row })
    expect(state.items).toEqual([{ ...row, pending: false }])
  })

  it('a reload that already has the canonical row replaces the pending temp row', () => {
    let state = emptyOptimistic<Row>()
    state = optimisticReducer(state, { type: 'add', tempId: 'temp_6', row: { title: 'Braga' } })
    state = optimisticReducer(state, { type: 'add', tempId: 'temp_7', row: { title: 'Tavira' } })
    state = optimisticReducer(state, { type: 'load', rows: [{ id: 'uuid-6', client_temp_id: 'temp_6', title: 'Braga' }] })
    expect(state.items.map((i) => i.id)).toEqual(['uuid-6', 'temp_7'])
    // then the create's answer arrives: still one Braga
    state = optimisticReducer(state, { type: 'confirm', tempId: 'temp_6', row: { id: 'uuid-6', client_temp_id: 'temp_6', title: 'Braga' } })
    expect(state.items.map((i) => i.id)).toEqual(['uuid-6', 'temp_7'])
  })

  it('a success that arrives after a rollback (late retry) appends once', () => {
    let state = emptyOptimistic<Row>()
    state = optimisticReducer(state, { type: 'add', tempId: 'temp_8', row: { title: 'Lagos' } })
    state = optimisticReducer(state, { type: 'fail', tempId: 'temp_8', error: rateLimited })
    state = optimisticReducer(state, { type: 'confirm', tempId: 'temp_8', row: { id: 'uuid-8', client_temp_id: 'temp_8', title: 'Lagos' } })
    state = optimisticReducer(state, { type: 'confirm', tempId: 'temp_8', row: { id: 'uuid-8', client_temp_id: 'temp_8', title: 'Lagos' } })
    expect(state.items.map((i) => i.id)).toEqual(['uuid-8'])
    expect(state.errors).toEqual({})
  })

  it('load de-duplicates, remove and dismiss work', () => {
    let state = emptyOptimistic<Row>([{ id: 'a', title: 'A' }, { id: 'a', title: 'A' }, { id: 'b', title: 'B' }])
    expect(state.items.map((i) => i.id)).toEqual(['a', 'b'])
    state = optimisticReducer(state, { type: 'remove', id: 'a' })
    expect(state.items.map((i) => i.id)).toEqual(['b'])
    state = optimisticReducer(state, { type: 'fail', tempId: 'temp_9', error: rateLimited })
    state = optimisticReducer(state, { type: 'dismiss', tempId: 'temp_9' })
    expect(state.errors).toEqual({})
  })
})
