/** What frontend/e2e/stack.py hands to the tests, and small helpers they share. */
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import type { Database } from '@wayfare/kit'

function need(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run through frontend/e2e/stack.py (scripts/frontend.sh test)`)
  return value
}

export const env = {
  apiUrl: need('WAYFARE_API_URL'),
  anonKey: need('WAYFARE_ANON_KEY'),
  serviceRoleKey: need('WAYFARE_SERVICE_ROLE_KEY'),
  stripeUrl: need('WAYFARE_STRIPE_URL'),
  slowWord: process.env.WAYFARE_SLOW_WORD ?? 'slowly',
  mediumWord: process.env.WAYFARE_MEDIUM_WORD ?? 'gently',
}

/** supabase-js 2.119 builds its Realtime client in createClient: Node 20 needs a WebSocket class. */
export const realtime = globalThis.WebSocket ? {} : { transport: WebSocket as never }

export function anonClient(): SupabaseClient<Database> {
  return createClient<Database>(env.apiUrl, env.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime,
  })
}

let counter = 0
export function newEmail(tag: string): string {
  counter += 1
  return `${tag}-${process.pid}-${Date.now()}-${counter}@example.com`
}

export const PASSWORD = 'correct horse battery staple'

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** A date `days` from today (UTC) as YYYY-MM-DD. */
export function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10)
}

/** Poll until `check` returns a value (not undefined), or fail after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await sleep(200)
  }
}

/** What the Stripe double's control API says about a PaymentIntent. */
export async function succeedPayment(paymentIntentId: string): Promise<void> {
  const res = await fetch(`${env.stripeUrl}/_double/payment_intents/${paymentIntentId}/succeed`, { method: 'POST' })
  if (!res.ok) throw new Error(`double: ${res.status} ${await res.text()}`)
}
