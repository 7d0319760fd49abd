/** Row and RPC result types derived from the generated Database type. */
import type { SupabaseClient } from '@supabase/supabase-js'
import type { Database } from './database.types.js'

export type { Database, Json } from './database.types.js'

type PublicSchema = Database['public']
export type Tables<T extends keyof PublicSchema['Tables']> = PublicSchema['Tables'][T]['Row']
export type Trip = Tables<'trips'>
export type Activity = Tables<'activities'>
export type Job = Tables<'jobs'>
export type Hotel = Tables<'hotels'>
export type Booking = Tables<'bookings'>

export type WayfareClient = SupabaseClient<Database>

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled'
/** How a watched job ended; `expired` is a queued job cancelled by pg_cron with error 'expired'. */
export type JobOutcome = 'completed' | 'failed' | 'cancelled' | 'expired'

export interface JobStarted {
  jobId: string
  status: 'queued'
  pollUrl: string
}
export interface JobCancelled {
  jobId: string
  status: JobStatus
  cancelRequestedAt?: string | null
}
export interface BookingCreated {
  id: string
  status: 'payment_pending'
  amount: number
  currency: string
  jobId: string
}
export interface BookingCancelled {
  id: string
  status: string
  jobId: string
}

export type RpcName = keyof PublicSchema['Functions']
type GeneratedArgs<N extends RpcName> = PublicSchema['Functions'][N]['Args']

/**
 * Arguments docs/api.md calls required. Every RPC argument has a SQL default (so a missing one
 * answers 400 VALIDATION_FAILED naming it, not PostgREST's 404), which makes them all optional
 * in the generated types; the kit makes them required again at compile time.
 */
export interface RequiredRpcArgs {
  create_trip: 'title'
  create_activity: 'trip_id' | 'title'
  start_job: 'job_type' | 'input'
  start_research: 'query'
  cancel_job: 'job_id'
  create_booking: 'hotel_id' | 'check_in' | 'check_out'
  cancel_booking: 'booking_id'
}
type Strict<A, K extends PropertyKey> = Omit<A, K & keyof A> & { [P in K & keyof A]-?: Exclude<A[P], undefined> }
export type RpcArgs<N extends RpcName> = N extends keyof RequiredRpcArgs
  ? Strict<GeneratedArgs<N>, RequiredRpcArgs[N]>
  : GeneratedArgs<N>

/** What each RPC returns (the database says `jsonb`; docs/api.md says what is inside). */
export interface RpcReturnMap {
  create_trip: Trip
  create_activity: Activity
  start_job: JobStarted
  start_research: JobStarted
  cancel_job: JobCancelled
  create_booking: BookingCreated
  cancel_booking: BookingCancelled
}
export type RpcReturns<N extends RpcName> = N extends keyof RpcReturnMap
  ? RpcReturnMap[N]
  : PublicSchema['Functions'][N]['Returns']
