/**
 * Optimistic lists with temporary client ids (docs/api.md "Swapping a temp id for the canonical
 * id"): the temp row shows at once, is swapped for the canonical row, is rolled back with the
 * error on failure, and is never duplicated by a retry (same temp id => same row; the server
 * answers a repeated client_temp_id with the existing row).
 */
import { fromUnknown, type WayfareError } from './errors.js'
import type { RpcResult } from './rpc.js'

/** `temp_` then a UUID: the shape create_trip / create_activity accept as client_temp_id. */
export function newTempId(): string {
  return `temp_${globalThis.crypto.randomUUID()}`
}

export function isTempId(id: string | null | undefined): boolean {
  return typeof id === 'string' && id.startsWith('temp_')
}

export interface Identified {
  id: string
  client_temp_id?: string | null
}

export type Optimistic<T extends Identified> = T & { pending?: boolean }

export interface OptimisticState<T extends Identified> {
  items: Optimistic<T>[]
  /** The last error of each temp id that was rolled back. */
  errors: Record<string, WayfareError>
}

export type OptimisticAction<T extends Identified> =
  | { type: 'load'; rows: T[] }
  | { type: 'add'; tempId: string; row: Omit<T, 'id' | 'client_temp_id'> & Partial<Identified> }
  | { type: 'confirm'; tempId: string; row: T }
  | { type: 'fail'; tempId: string; error: WayfareError }
  | { type: 'remove'; id: string }
  | { type: 'dismiss'; tempId: string }

export function emptyOptimistic<T extends Identified>(rows: T[] = []): OptimisticState<T> {
  return optimisticReducer({ items: [], errors: {} }, { type: 'load', rows })
}

function withoutKey<V>(record: Record<string, V>, key: string): Record<string, V> {
  if (!(key in record)) return record
  const next = { ...record }
  delete next[key]
  return next
}

export function optimisticReducer<T extends Identified>(
  state: OptimisticState<T>,
  action: OptimisticAction<T>,
): OptimisticState<T> {
  switch (action.type) {
    case 'load': {
      // server rows win; pending temp rows stay unless the server already has their client_temp_id
      const seen = new Set<string>()
      const rows: Optimistic<T>[] = []
      for (const row of action.rows) {
        if (seen.has(row.id)) continue
        seen.add(row.id)
        rows.push({ ...row, pending: false })
      }
      const known = new Set(action.rows.map((r) => r.client_temp_id).filter(Boolean))
      const pending = state.items.filter((i) => i.pending && !known.has(i.id))
      return { ...state, items: [...rows, ...pending] }
    }
    case 'add': {
      const exists = state.items.some(
        (i) => i.id === action.tempId || (i.client_temp_id != null && i.client_temp_id === action.tempId),
      )
      const errors = withoutKey(state.errors, action.tempId)
      if (exists) return errors === state.errors ? state : { ...state, errors } // a retry: no second row
      const row = { ...action.row, id: action.tempId, client_temp_id: action.tempId, pending: true } as Optimistic<T>
      return { items: [...state.items, row], errors }
    }
    case 'confirm': {
      const canonical: Optimistic<T> = { ...action.row, pending: false }
      const tempIndex = state.items.findIndex((i) => i.id === action.tempId)
      const canonicalIndex = state.items.findIndex((i) => i.id === canonical.id)
      let items = state.items
      if (canonicalIndex >= 0) {
        items = items.map((i, n) => (n === canonicalIndex ? canonical : i))
        if (tempIndex >= 0) items = items.filter((_, n) => n !== tempIndex)
      } else if (tempIndex >= 0) {
        items = items.map((i, n) => (n === tempIndex ? canonical : i))
      } else {
        items = [...items, canonical] // rolled back meanwhile, then a retry succeeded
      }
      return { items, errors: withoutKey(state.errors, action.tempId) }
    }
    case 'fail': {
      const items = state.items.filter((i) => !(i.id === action.tempId && i.pending))
      return { items, errors: { ...state.errors, [action.tempId]: action.error } }
    }
    case 'remove':
      return { ...state, items: state.items.filter((i) => i.id !== action.id) }
    case 'dismiss':
      return { ...state, errors: withoutKey(state.errors, action.tempId) }
  }
}

export interface CreateWithTempIdOptions<T extends Identified> {
  /** The row to show at once (without id / client_temp_id). */
  optimistic: Omit<T, 'id' | 'client_temp_id'> & Partial<Identified>
  /** Make the canonical row, sending tempId as client_temp_id (and one Idempotency-Key per intention). */
  create: (tempId: string) => Promise<RpcResult<T>>
  /** Pass the temp id of a failed attempt to retry it without a second row. */
  tempId?: string
}

export type CreateWithTempIdResult<T> = RpcResult<T> & { tempId: string }

/** Add the temp row, call create, then swap it for the canonical row or roll it back. */
export async function createWithTempId<T extends Identified>(
  dispatch: (action: OptimisticAction<T>) => void,
  options: CreateWithTempIdOptions<T>,
): Promise<CreateWithTempIdResult<T>> {
  const tempId = options.tempId ?? newTempId()
  dispatch({ type: 'add', tempId, row: options.optimistic })
  let result: RpcResult<T>
  try {
    result = await options.create(tempId)
  } catch (thrown) {
    const error = fromUnknown(thrown)
    dispatch({ type: 'fail', tempId, error })
    if (thrown instanceof Error && thrown.name === 'AbortError') throw thrown
    return { data: null, error, status: 0, requestId: null, replayed: false, tempId }
  }
  if (result.error) dispatch({ type: 'fail', tempId, error: result.error })
  else dispatch({ type: 'confirm', tempId, row: result.data })
  return { ...result, tempId }
}
