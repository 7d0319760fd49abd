import { lazy, Suspense, useEffect, useState, type ReactElement } from 'react'
import type { Session } from '@supabase/supabase-js'
import type { WayfareClient } from '@wayfare/kit'
import { Auth } from './Auth'
import type { AppConfig } from './client'
import { Trips } from './Trips'

// the research and booking screens are separate chunks, loaded when first opened
const Research = lazy(() => import('./Research'))
const Booking = lazy(() => import('./Booking'))

type Tab = 'trips' | 'research' | 'booking'

export function App({ client, config }: { client: WayfareClient; config: AppConfig }): ReactElement {
  const [session, setSession] = useState<Session | null>(null)
  const [ready, setReady] = useState(false)
  const [tab, setTab] = useState<Tab>('trips')
  const [opened, setOpened] = useState<ReadonlySet<Tab>>(new Set(['trips']))
  const open = (t: Tab): void => {
    setTab(t)
    setOpened((o) => new Set(o).add(t))
  }

  useEffect(() => {
    void client.auth.getSession().then(({ data }) => {
      setSession(data.session)
      setReady(true)
    })
    const { data } = client.auth.onAuthStateChange((_event, s) => setSession(s))
    return () => data.subscription.unsubscribe()
  }, [client])

  if (!ready) return <p>Loading…</p>
  return (
    <>
      <header>
        <h1>Wayfare</h1>
        {session ? (
          <p className="who">
            Signed in as <span data-testid="user-email">{session.user.email}</span>{' '}
            <button type="button" onClick={() => void client.auth.signOut()}>Sign out</button>
          </p>
        ) : null}
      </header>
      <main>
        {!session ? (
          <Auth client={client} />
        ) : (
          <>
            <nav aria-label="Sections" className="tabs">
              {(['trips', 'research', 'booking'] as const).map((t) => (
                <button key={t} type="button" aria-pressed={tab === t} onClick={() => open(t)}>
                  {t === 'trips' ? 'Trips' : t === 'research' ? 'Research' : 'Hotels'}
                </button>
              ))}
            </nav>
            <Suspense fallback={<p>Loading…</p>}>
              {/* kept mounted once opened, so running research keeps its progress */}
              <div hidden={tab !== 'trips'}><Trips client={client} userId={session.user.id} /></div>
              {opened.has('research') ? <div hidden={tab !== 'research'}><Research client={client} /></div> : null}
              {opened.has('booking') ? <div hidden={tab !== 'booking'}><Booking client={client} stripeTestMode={config.stripeTestMode} /></div> : null}
            </Suspense>
          </>
        )}
      </main>
    </>
  )
}
