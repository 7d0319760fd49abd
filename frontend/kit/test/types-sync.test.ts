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
