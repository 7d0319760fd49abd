import { useEffect, useState, type FormEvent, type ReactElement } from 'react'
import { newIdempotencyKey, rpc, toWayfareError, type Activity, type Trip, type WayfareClient, type WayfareError } from '@wayfare/kit'
import { useCreateWithTempId } from '@wayfare/kit/react'
import { ErrorNotice } from './ErrorNotice'

type NewTrip = Omit<Trip, 'id' | 'client_temp_id'>
type NewActivity = Omit<Activity, 'id' | 'client_temp_id'>

/** Trips and their activities, created optimistically with temp ids. */
export function Trips({ client, userId }: { client: WayfareClient; userId: string }): ReactElement {
  const trips = useCreateWithTempId<Trip>()
  const activities = useCreateWithTempId<Activity>()
  const [title, setTitle] = useState('')
  const [destination, setDestination] = useState('')
  const [loadError, setLoadError] = useState<WayfareError | null>(null)

  async function reload(): Promise<void> {
    const { data, error, status } = await client.from('trips').select('*, activities(*)').order('created_at')
    if (error) return setLoadError(toWayfareError(error, status))
    setLoadError(null)
    trips.load(data.map(({ activities: _a, ...trip }) => trip))
    activities.load(data.flatMap((t) => t.activities))
  }
  useEffect(() => {
    void reload()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, userId])

  function addTrip(event: FormEvent): void {
    event.preventDefault()
    const now = new Date().toISOString()
    const args = { title, destination: destination || undefined }
    const key = newIdempotencyKey() // one per intention: a retry reuses it
    const optimistic: NewTrip = { user_id: userId, title: title.trim(), destination: destination || null, start_date: null, end_date: null, created_at: now, updated_at: now }
    void trips.create({ optimistic, create: (tempId) => rpc(client, 'create_trip', { ...args, client_temp_id: tempId }, { idempotencyKey: key }) })
    setTitle('')
    setDestination('')
  }

  return (
    <section aria-labelledby="trips-title" className="card">
      <h2 id="trips-title">Trips</h2>
      <form onSubmit={addTrip} className="row" aria-label="New trip">
        <label>
          Title <input name="trip-title" value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          Destination <input name="trip-destination" value={destination} onChange={(e) => setDestination(e.target.value)} />
        </label>
        <button type="submit">Add trip</button>
      </form>
      {loadError ? <ErrorNotice error={loadError} onRetry={() => void reload()} /> : null}
      {Object.entries(trips.errors).map(([tempId, error]) => (
        <ErrorNotice key={tempId} error={error} onRetry={() => void trips.retry(tempId)} onDismiss={() => trips.dismiss(tempId)} />
      ))}
      {Object.entries(activities.errors).map(([tempId, error]) => (
        <ErrorNotice key={tempId} error={error} onRetry={() => void activities.retry(tempId)} onDismiss={() => activities.dismiss(tempId)} />
      ))}
      <ul className="trips" aria-live="polite">
        {trips.items.map((trip) => (
          <li key={trip.client_temp_id ?? trip.id} data-testid="trip" data-id={trip.id} data-pending={String(Boolean(trip.pending))}>
            <strong>{trip.title}</strong>
            {trip.destination ? <span> · {trip.destination}</span> : null}
            {trip.pending ? <em className="pending"> saving…</em> : null}
            <Activities client={client} userId={userId} trip={trip} api={activities} />
          </li>
        ))}
      </ul>
    </section>
  )
}

function Activities(props: { client: WayfareClient; userId: string; trip: Trip & { pending?: boolean }; api: ReturnType<typeof useCreateWithTempId<Activity>> }): ReactElement {
  const { client, userId, trip, api } = props
  const [title, setTitle] = useState('')
  const mine = api.items.filter((a) => a.trip_id === trip.id)

  function add(event: FormEvent): void {
    event.preventDefault()
    const now = new Date().toISOString()
    const key = newIdempotencyKey()
    const optimistic: NewActivity = { trip_id: trip.id, user_id: userId, title: title.trim(), starts_at: null, ends_at: null, location: null, notes: null, created_at: now, updated_at: now }
    void api.create({ optimistic, create: (tempId) => rpc(client, 'create_activity', { trip_id: trip.id, title, client_temp_id: tempId }, { idempotencyKey: key }) })
    setTitle('')
  }

  return (
    <div className="activities">
      <ul>
        {mine.map((a) => (
          <li key={a.client_temp_id ?? a.id} data-testid="activity" data-id={a.id} data-pending={String(Boolean(a.pending))}>
            {a.title}
            {a.pending ? <em className="pending"> saving…</em> : null}
          </li>
        ))}
      </ul>
      {trip.pending ? null : (
        <form onSubmit={add} className="row" aria-label={`New activity for ${trip.title}`}>
          <label>
            Activity <input name="activity-title" value={title} onChange={(e) => setTitle(e.target.value)} />
          </label>
          <button type="submit">Add activity</button>
        </form>
      )}
    </div>
  )
}
