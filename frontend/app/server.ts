/**
 * What the app's server adds to Vite (dev and preview alike):
 *
 * - GET /config.json: the Supabase URL and anon key, read from the environment when the server
 *   starts (SUPABASE_URL / SUPABASE_ANON_KEY, or the e2e stack's WAYFARE_API_URL /
 *   WAYFARE_ANON_KEY), so one build runs against any local API.
 * - POST /_stripe_test/confirm: the test-mode "pay" step. Stripe.js cannot load offline, so
 *   the server confirms the PaymentIntent at the local Stripe double, as Stripe.js would with
 *   a test card: it checks the client secret against the PaymentIntent first and only then
 *   calls POST /v1/payment_intents/<id>/confirm with a test payment method. Only when a
 *   Stripe double is configured (WAYFARE_STRIPE_URL or STRIPE_API_BASE); never a real Stripe.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Plugin } from 'vite'

type Next = (err?: unknown) => void

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.setHeader('cache-control', 'no-store')
  res.end(JSON.stringify(body))
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 16_384) throw new Error('body too large')
    chunks.push(chunk as Buffer)
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
}

const TEST_METHODS = new Set(['pm_card_visa', 'pm_card_chargeDeclined', 'pm_card_insufficientFunds'])

export function wayfareServer(): Plugin {
  const env = process.env
  const config = {
    supabaseUrl: env.WAYFARE_API_URL ?? env.SUPABASE_URL ?? 'http://127.0.0.1:54321',
    anonKey: env.WAYFARE_ANON_KEY ?? env.SUPABASE_ANON_KEY ?? '',
    stripeTestMode: Boolean(env.WAYFARE_STRIPE_URL ?? env.STRIPE_API_BASE),
  }
  const stripeUrl = env.WAYFARE_STRIPE_URL ?? env.STRIPE_API_BASE ?? ''
  const stripeKey = env.WAYFARE_STRIPE_KEY ?? env.STRIPE_API_KEY ?? ''

  async function pay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!stripeUrl || !stripeKey.startsWith('sk_test_')) return send(res, 404, { error: { message: 'No local Stripe double configured.' } })
    const body = await readJson(req)
    const secret = typeof body.client_secret === 'string' ? body.client_secret : ''
    const method = typeof body.payment_method === 'string' ? body.payment_method : 'pm_card_visa'
    const id = secret.split('_secret_')[0] ?? ''
    if (!/^pi_[A-Za-z0-9]+$/.test(id) || !TEST_METHODS.has(method)) return send(res, 400, { error: { message: 'Invalid payment request.' } })
    const auth = { authorization: `Bearer ${stripeKey}` }
    const intent = await fetch(`${stripeUrl}/v1/payment_intents/${id}`, { headers: auth })
    const found = (await intent.json()) as { client_secret?: string }
    if (!intent.ok || found.client_secret !== secret) return send(res, 404, { error: { message: 'No such payment.' } })
    const confirm = await fetch(`${stripeUrl}/v1/payment_intents/${id}/confirm`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payment_method: method }).toString(),
    })
    const answer = (await confirm.json()) as { status?: string; error?: { message?: string; code?: string } }
    send(res, confirm.status, answer.error ? { error: { message: answer.error.message, code: answer.error.code } } : { status: answer.status })
  }

  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const path = (req.url ?? '').split('?')[0]
    if (req.method === 'GET' && path === '/config.json') return send(res, 200, config)
    if (req.method === 'POST' && path === '/_stripe_test/confirm') {
      pay(req, res).catch((error: unknown) => send(res, 502, { error: { message: `Stripe double: ${String(error)}` } }))
      return
    }
    next()
  }
  return {
    name: 'wayfare-server',
    configureServer(server) {
      server.middlewares.use(middleware)
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware)
    },
  }
}
