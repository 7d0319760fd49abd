/**
 * Issue 9: the supabase-js snippet that `make run` prints (scripts/run.sh) works as printed.
 * The test reads the snippet out of run.sh, fills in the values the banner would (the local
 * API, its anon key, a user), and runs it. Node 20 has no WebSocket of its own (browsers and
 * Node 22 do): the banner says to set one, and so does the test.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { PASSWORD, anonClient, env, newEmail } from './env.js'

const RUN_SH = new URL('../../../scripts/run.sh', import.meta.url)

function snippet(): string[] {
  const lines = readFileSync(RUN_SH, 'utf8').split('\n')
  const start = lines.findIndex((l) => l.startsWith('supabase-js, as printed'))
  assert.ok(start >= 0, 'run.sh prints a supabase-js snippet')
  const body: string[] = []
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break
    body.push(line.trim())
  }
  return body
}

describe('the make run banner', () => {
  it('prints a supabase-js snippet that works as printed', async () => {
    const lines = snippet()
    assert.equal(lines[0], "import { createClient } from '@supabase/supabase-js'")
    const email = newEmail('banner')
    const signUp = await anonClient().auth.signUp({ email, password: PASSWORD })
    assert.equal(signUp.error, null, signUp.error?.message)
    const values: Record<string, string> = {
      SUPABASE_URL: env.apiUrl, SUPABASE_ANON_KEY: env.anonKey,
      DEMO_EMAIL: email, DEMO_PASSWORD: PASSWORD,
    }
    const code = lines.slice(1).join('\n')
      .replace(/\$([A-Z_]+)/g, (_, name: string) => {
        assert.ok(name in values, `the banner uses $${name}`)
        return values[name]
      })
    const g = globalThis as { WebSocket?: unknown }
    const had = g.WebSocket
    g.WebSocket ??= WebSocket
    try {
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor
      const run = new AsyncFunction('createClient', `${code}\nreturn { data, error, supabase }`)
      const { data, error, supabase } = await run(createClient)
      assert.equal(error, null, error?.message)
      assert.equal((data as { title: string }).title, 'Porto')
      await supabase.removeAllChannels()
    } finally {
      g.WebSocket = had
    }
  })
})
