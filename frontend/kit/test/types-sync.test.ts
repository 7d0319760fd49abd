import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const repoTypes = fileURLToPath(new URL('../../../supabase/types/database.types.ts', import.meta.url))
const kitTypes = fileURLToPath(new URL('../src/database.types.ts', import.meta.url))

describe('generated types', () => {
  it.skipIf(!existsSync(repoTypes))("the kit's copy equals supabase/types/database.types.ts (run scripts/frontend.sh types)", () => {
    expect(readFileSync(kitTypes, 'utf8')).toBe(readFileSync(repoTypes, 'utf8'))
  })
  it('the kit types list every RPC the kit types the results of', () => {
    const text = readFileSync(kitTypes, 'utf8')
    for (const fn of ['create_trip', 'create_activity', 'start_job', 'start_research', 'cancel_job', 'create_booking', 'cancel_booking']) {
      expect(text).toContain(`${fn}: {`)
    }
  })
})

describe('RpcArgs keeps the documented required arguments required', () => {
  it('compiles only with them (checked by tsc --noEmit)', async () => {
    const { rpc } = await import('../src/rpc.js')
    type Client = Parameters<typeof rpc>[0]
    const typed = (client: Client) => {
      void rpc(client, 'create_trip', { title: 'ok' })
      // @ts-expect-error title is required by the kit even though the SQL has a default
      void rpc(client, 'create_trip', { destination: 'Lisbon' })
      // @ts-expect-error job_id is required
      void rpc(client, 'cancel_job', {})
      void rpc(client, 'create_booking', { hotel_id: 'h', check_in: '2027-01-01', check_out: '2027-01-02' })
    }
    expect(typeof typed).toBe('function')
  })
})
