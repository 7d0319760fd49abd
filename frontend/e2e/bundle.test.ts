/** The production bundle: under 500 KB gzip in all, research and booking in lazily loaded chunks. */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { describe, it } from 'node:test'

const dist = fileURLToPath(new URL('../../app/dist/', import.meta.url))
const LIMIT = 500 * 1024

describe('production bundle', () => {
  const assets = readdirSync(join(dist, 'assets'))
  const sizes = assets.map((name) => {
    const raw = readFileSync(join(dist, 'assets', name))
    return { name, raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length }
  })

  it('is under 500 KB gzip (all JS and CSS together)', () => {
    const total = sizes.filter((s) => /\.(js|css)$/.test(s.name)).reduce((n, s) => n + s.gzip, 0)
    for (const s of sizes) console.log(`# ${s.name}: ${(s.raw / 1024).toFixed(1)} KB, ${(s.gzip / 1024).toFixed(1)} KB gzip`)
    console.log(`# total: ${(total / 1024).toFixed(1)} KB gzip (limit ${LIMIT / 1024} KB)`)
    assert.ok(total > 10 * 1024, 'the bundle is suspiciously small: was the app built?')
    assert.ok(total < LIMIT, `bundle is ${total} bytes gzip`)
  })

  it('loads the research and booking screens lazily', () => {
    const html = readFileSync(join(dist, 'index.html'), 'utf8')
    const research = assets.find((a) => /^Research-.*\.js$/.test(a))
    const booking = assets.find((a) => /^Booking-.*\.js$/.test(a))
    assert.ok(research && booking, `separate chunks for Research and Booking: ${assets.join(', ')}`)
    assert.ok(!html.includes(research) && !html.includes(booking), 'index.html must not load them')
    const entry = /src="\/assets\/(index-[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(entry, 'entry script in index.html')
    const code = readFileSync(join(dist, 'assets', entry), 'utf8')
    // referenced only through dynamic import(), never a static import
    assert.match(code, new RegExp(`import\\([^)]*${research.replace('.', '\\.')}`))
    assert.doesNotMatch(code, new RegExp(`^import[^;]*${research.replace('.', '\\.')}`, 'm'))
  })
})
