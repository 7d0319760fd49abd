import { useState, type FormEvent, type ReactElement } from 'react'
import type { WayfareClient } from '@wayfare/kit'

/** Sign up or sign in with email and password (the local Auth stand-in, or a project's Auth). */
export function Auth({ client }: { client: WayfareClient }): ReactElement {
  const [mode, setMode] = useState<'signin' | 'signup'>('signin')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [message, setMessage] = useState<string | null>(null)

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault()
    setBusy(true)
    setMessage(null)
    const { error } =
      mode === 'signup'
        ? await client.auth.signUp({ email, password })
        : await client.auth.signInWithPassword({ email, password })
    setBusy(false)
    if (error) setMessage(error.message)
  }

  return (
    <form className="card auth" onSubmit={submit} aria-labelledby="auth-title">
      <h2 id="auth-title">{mode === 'signup' ? 'Create an account' : 'Sign in'}</h2>
      <label>
        Email <input type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password{' '}
        <input type="password" name="password" autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} required minLength={6} value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {message ? <p role="alert" className="error">{message}</p> : null}
      <button type="submit" disabled={busy}>{mode === 'signup' ? 'Sign up' : 'Sign in'}</button>
      <button type="button" className="link" onClick={() => setMode(mode === 'signup' ? 'signin' : 'signup')}>
        {mode === 'signup' ? 'I have an account' : 'Create an account'}
      </button>
    </form>
  )
}
