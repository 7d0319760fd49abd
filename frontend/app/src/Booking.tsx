import { useEffect, useState, type FormEvent, type ReactElement } from 'react'
import {
  backoffDelay,
  newIdempotencyKey,
  rpc,
  sleep,
  toWayfareError,
  type Booking as BookingRow,
  type Hotel,
  type WayfareClient,
  type WayfareError,
} from '@wayfare/kit'
import { ErrorNotice } from './ErrorNotice'

type Watched = Pick<BookingRow, 'id' | 'status' | 'client_secret' | 'error' | 'amount' | 'currency'>

const FINAL = ['confirmed', 'completed', 'cancelled']

function isoDay(daysAhead: number): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10)
}

export function formatMoney(amount: number, currency: string): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount / 10 ** digits)
}

/** Hotel booking: create_booking, wait for the PaymentIntent, pay (test mode), see the webhook confirm it. Loaded lazily. */
export default function Booking({ client, stripeTestMode }: { client: WayfareClient; stripeTestMode: boolean }): ReactElement {
  const [hotels, setHotels] = useState<Hotel[]>([])
  const [hotelId, setHotelId] = useState('')
  const [checkIn, setCheckIn] = useState(isoDay(30))
  const [checkOut, setCheckOut] = useState(isoDay(33))
  const [error, setError] = useState<WayfareError | null>(null)
  const [booking, setBooking] = useState<Watched | null>(null)
  const [paying, setPaying] = useState(false)
  const [payMessage, setPayMessage] = useState<string | null>(null)
  const [card, setCard] = useState('pm_card_visa')
  const [intent, setIntent] = useState<{ key: string; args: { hotel_id: string; check_in: string; check_out: string } } | null>(null)

  useEffect(() => {
    void client
      .from('hotels')
      .select('*')
      .order('city')
      .then(({ data, error: e, status }) => {
        if (e) return setError(toWayfareError(e, status))
        setHotels(data)
        if (data[0]) setHotelId((h) => h || data[0]!.id)
      })
  }, [client])

  // watch the booking row: backoff 2 -> 4 -> 8 s, reset when its status changes, until it is final
  const bookingId = booking?.id ?? null
  useEffect(() => {
    if (!bookingId) return
    const controller = new AbortController()
    void (async () => {
      let attempt = 0
      let last = ''
      while (!controller.signal.aborted) {
        const { data } = await client.from('bookings').select('id, status, client_secret, error, amount, currency').eq('id', bookingId).maybeSingle()
        if (controller.signal.aborted) return
        if (data) {
          const seen = `${data.status}|${data.client_secret ? 1 : 0}|${data.error ?? ''}`
          if (seen !== last) attempt = 0
          last = seen
          setBooking(data)
          if (FINAL.includes(data.status)) return
        }
        await sleep(backoffDelay(attempt++, { initialMs: 1000, capMs: 4000 }), controller.signal).catch(() => {})
      }
    })()
    return () => controller.abort()
  }, [client, bookingId, paying])

  async function book(args: { hotel_id: string; check_in: string; check_out: string }, key: string): Promise<void> {
    setError(null)
    const result = await rpc(client, 'create_booking', args, { idempotencyKey: key })
    if (result.error) {
      setError(result.error)
      setIntent({ key, args })
      return
    }
    setIntent(null)
    setBooking({ id: result.data.id, status: result.data.status, client_secret: null, error: null, amount: result.data.amount, currency: result.data.currency })
  }

  function submit(event: FormEvent): void {
    event.preventDefault()
    void book({ hotel_id: hotelId, check_in: checkIn, check_out: checkOut }, newIdempotencyKey())
  }

  async function pay(): Promise<void> {
    if (!booking?.client_secret) return
    setPaying(true)
    setPayMessage(null)
    const res = await fetch('/_stripe_test/confirm', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_secret: booking.client_secret, payment_method: card }),
    })
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } }
    setPayMessage(res.ok ? 'Payment sent. Waiting for Stripe to confirm it…' : body.error?.message ?? `Payment failed (${res.status}).`)
    setPaying(false)
  }

  return (
    <section aria-labelledby="booking-title" className="card">
      <h2 id="booking-title">Book a hotel</h2>
      <form onSubmit={submit} className="row" aria-label="New booking">
        <label>
          Hotel{' '}
          <select name="hotel" value={hotelId} onChange={(e) => setHotelId(e.target.value)}>
            {hotels.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name} ({h.city}) {formatMoney(h.nightly_rate_cents, h.currency)}/night
              </option>
            ))}
          </select>
        </label>
        <label>
          Check-in <input type="date" name="check-in" value={checkIn} onChange={(e) => setCheckIn(e.target.value)} />
        </label>
        <label>
          Check-out <input type="date" name="check-out" value={checkOut} onChange={(e) => setCheckOut(e.target.value)} />
        </label>
        <button type="submit" disabled={!hotelId}>Book</button>
      </form>
      {error ? <ErrorNotice error={error} onRetry={intent ? () => void book(intent.args, intent.key) : undefined} onDismiss={() => setError(null)} /> : null}
      {booking ? (
        <div className="booking" data-testid="booking" data-status={booking.status}>
          <p role="status" aria-live="polite">
            Booking {formatMoney(booking.amount, booking.currency)}: <strong data-testid="booking-status">{booking.status.replace('_', ' ')}</strong>
            {booking.error ? <span className="error"> – {booking.error}</span> : null}
          </p>
          {booking.client_secret && ['payment_pending', 'payment_failed'].includes(booking.status) ? (
            stripeTestMode ? (
              <div className="row">
                <label>
                  Test card{' '}
                  <select name="card" value={card} onChange={(e) => setCard(e.target.value)}>
                    <option value="pm_card_visa">Visa (succeeds)</option>
                    <option value="pm_card_chargeDeclined">Declined card</option>
                    <option value="pm_card_insufficientFunds">Insufficient funds</option>
                  </select>
                </label>
                <button type="button" onClick={() => void pay()} disabled={paying}>
                  Pay (test mode)
                </button>
              </div>
            ) : (
              <p>Pay with Stripe.js using the client secret (not available offline).</p>
            )
          ) : null}
          {booking.status === 'payment_pending' && !booking.client_secret ? <p>Preparing the payment…</p> : null}
          {payMessage && !FINAL.includes(booking.status) && booking.status !== 'paid' ? <p>{payMessage}</p> : null}
          {booking.status === 'confirmed' ? <p>Confirmed: Stripe told us the payment succeeded.</p> : null}
        </div>
      ) : null}
    </section>
  )
}
