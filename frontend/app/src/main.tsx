import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { loadConfig, makeClient } from './client'
import './styles.css'

const root = createRoot(document.getElementById('root')!)
loadConfig().then(
  (config) => {
    const client = makeClient(config)
    root.render(
      <StrictMode>
        <App client={client} config={config} />
      </StrictMode>,
    )
  },
  (error: unknown) => root.render(<p role="alert">Cannot load the app's configuration: {String(error)}</p>),
)
