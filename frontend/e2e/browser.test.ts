/**
 * One end-to-end run of the app in Debian's chromium (playwright-core, executablePath): sign up,
 * an optimistic trip (temp row, then the canonical id, no temp id left), research to 100 %, a
 * second research cancelled from the keyboard, a hotel booked and paid at the Stripe double and
 * confirmed by the webhook, a 429 shown as "try again in N s". Screenshots go to
 * frontend/test-results/screenshots/.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { PASSWORD, env, newEmail, sleep } from './env.js'

const FRONTEND = fileURLToPath(new URL('../../', import.meta.url))
const SHOTS = `${FRONTEND}test-results/screenshots`
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? 'chromium'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

let server: ChildProcess
let browser: Browser
let page: Page
let appUrl: string
let email: string
let tripsShown = 0
const requested: string[] = []
const consoleErrors: string[] = []

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true })
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
  const port = await freePort()
  appUrl = `http://127.0.0.1:${port}`
  server = spawn(`${FRONTEND}node_modules/.bin/vite`, ['preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: `${FRONTEND}app`,
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${appUrl}/config.json`)).ok) break
    } catch {
      /* not yet */
    }
    if (i > 100) throw new Error('vite preview did not start')
    await sleep(100)
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  page.on('request', (r) => requested.push(r.url()))
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  page.setDefaultTimeout(20_000)
})

after(async () => {
  await browser?.close()
  server?.kill('SIGTERM')
})

describe('the travel app in chromium', () => {
  it('signs up', async () => {
    await page.goto(appUrl)
    await page.getByRole('button', { name: 'Create an account' }).click()
    email = newEmail('browser')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.getByTestId('user-email').filter({ hasText: email }).waitFor()
    assert.ok(!requested.some((u) => /\/(Research|Booking)-[^/]+\.js$/.test(u)), 'lazy screens not loaded yet')
    await shot('01-signed-up')
  })

  it('creates a trip optimistically: temp row first, then the canonical id, no temp id left', async () => {
    // a slow network, so the temp row can be seen before the answer
    await page.route('**/rest/v1/rpc/create_trip', async (route) => {
      await sleep(800)
      await route.continue()
    })
    await page.getByLabel('Title').fill('Lisbon long weekend')
    await page.getByLabel('Destination').fill('Lisbon')
    await page.getByRole('button', { name: 'Add trip' }).click()
    const trip = page.getByTestId('trip').filter({ hasText: 'Lisbon long weekend' })
    await trip.and(page.locator('[data-pending="true"]')).waitFor()
    assert.match((await trip.getAttribute('data-id'))!, /^temp_/)
    await shot('02-trip-temp')
    await trip.and(page.locator('[data-pending="false"]')).waitFor()
    assert.match((await trip.getAttribute('data-id'))!, UUID)
    await page.unroute('**/rest/v1/rpc/create_trip')
    assert.equal(await page.locator('[data-id^="temp_"]').count(), 0)
    assert.equal(await page.getByText('saving…').count(), 0)

    await trip.getByRole('textbox', { name: 'Activity' }).fill('Tram 28')
    await trip.getByRole('button', { name: 'Add activity' }).click()
    const activity = trip.getByTestId('activity').filter({ hasText: 'Tram 28' })
    await activity.and(page.locator('[data-pending="false"]')).waitFor()
    assert.match((await activity.getAttribute('data-id'))!, UUID)
    assert.equal(await page.locator('[data-id^="temp_"]').count(), 0)
    await shot('03-trip-canonical')
  })

  it('runs a research with the bar moving to 100 %', async () => {
    await page.getByRole('button', { name: 'Research' }).first().click()
    await page.getByLabel('What should we research?').waitFor()
    assert.ok(requested.some((u) => /\/Research-[^/]+\.js$/.test(u)), 'the research chunk loads when opened')
    await page.getByLabel('What should we research?').fill(`Three days in Lisbon, ${env.mediumWord} paced, with kids who love trams`)
    await page.getByRole('button', { name: 'Research', exact: true }).last().click()
    const bar = page.getByRole('progressbar').first()
    await bar.waitFor()
    const seen = new Set<string>()
    for (let i = 0; i < 300; i++) {
      const now = (await bar.getAttribute('aria-valuenow'))!
      seen.add(now)
      if (now === '100') break
      await sleep(100)
    }
    assert.ok(seen.has('100'), `the bar reached 100: ${[...seen].join(',')}`)
    assert.ok(seen.size >= 2, `the bar moved: ${[...seen].join(',')}`)
    await page.getByRole('status').filter({ hasText: 'Done.' }).first().waitFor()
    await shot('04-research-done')
  })

  it('cancels a second research from the keyboard', async () => {
    await page.getByLabel('What should we research?').fill(`Walk ${env.slowWord} through Porto's hills`)
    await page.keyboard.press('Enter')
    const item = page.getByTestId('research').filter({ hasText: 'Porto' })
    const cancel = item.getByRole('button', { name: /^Cancel Research/ })
    await cancel.waitFor()
    await cancel.focus()
    await page.keyboard.press('Enter')
    await item.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor()
    assert.equal(await item.getByRole('button', { name: /^Cancel/ }).count(), 0)
    await shot('05-research-cancelled')
  })

  it('books a hotel, pays it (test mode) and sees the webhook confirm it', async () => {
    await page.getByRole('button', { name: 'Hotels' }).click()
    assert.ok(requested.some((u) => /\/Booking-[^/]+\.js$/.test(u)), 'the booking chunk loads when opened')
    await page.getByRole('button', { name: 'Book', exact: true }).click()
    await page.getByRole('button', { name: 'Pay (test mode)' }).click()
    await page.getByTestId('booking-status').filter({ hasText: 'confirmed' }).waitFor({ timeout: 30_000 })
    await shot('06-booking-confirmed')
  })

  it('shows a 429 as "try again in N s" with the request id', async () => {
    await page.getByRole('button', { name: 'Trips' }).click()
    const alert = page.getByRole('alert').filter({ hasText: 'Too many requests' })
    for (let i = 0; i < 25 && (await alert.count()) === 0; i++) { // 10 a minute; a window may end meanwhile
      await page.getByLabel('Title').fill(`Day trip ${i}`)
      await page.getByRole('button', { name: 'Add trip' }).click()
      await page.locator('[data-pending="true"]').waitFor({ state: 'detached' })
    }
    await alert.first().waitFor()
    const text = (await alert.first().locator('.error-message').textContent())!
    assert.match(text, /^Too many requests: try again in \d+ s\.$/)
    assert.ok((await alert.first().getByTestId('request-id').textContent())!.length >= 8)
    assert.equal(await page.locator('[data-id^="temp_"]').count(), 0, 'the refused trip was rolled back')
    tripsShown = await page.getByTestId('trip').count()
    assert.ok(tripsShown >= 2)
    await shot('07-rate-limited')
  })

  it('signs out and in again: the trips are there, with canonical ids only', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByTestId('user-email').filter({ hasText: email }).waitFor()
    const trip = page.getByTestId('trip').filter({ hasText: 'Lisbon long weekend' })
    await trip.waitFor()
    assert.match((await trip.getAttribute('data-id'))!, UUID)
    assert.equal(await trip.getByTestId('activity').filter({ hasText: 'Tram 28' }).count(), 1)
    assert.equal(await page.locator('[data-id^="temp_"]').count(), 0)
    assert.equal(await page.getByTestId('trip').count(), tripsShown) // what was shown is what the server has
  })

  it('left no uncaught errors in the console but the expected ones', () => {
    const unexpected = consoleErrors.filter((t) => !/429|Too Many Requests|realtime|WebSocket|websocket/i.test(t))
    assert.deepEqual(unexpected, [])
  })
})
