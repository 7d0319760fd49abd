import { createWayfareClient, type WayfareClient } from '@wayfare/kit'

export interface AppConfig {
  supabaseUrl: string
  anonKey: string
  stripeTestMode: boolean
}

/** The server says where the API is (/config.json), so one build serves any local API. */
export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' })
  if (!res.ok) throw new Error(`config.json: ${res.status}`)
  return (await res.json()) as AppConfig
}

export function makeClient(config: AppConfig): WayfareClient {
  return createWayfareClient(config.supabaseUrl, config.anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, storageKey: 'wayfare-auth' },
  })
}
