// Starts the example app: `npm run example` (builds the package first).
//
//   PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 in a container),
//   REDIS_URL, REDIS_PASSWORD, REDIS_CACHE_URL, REDIS_QUEUE_URL, REDIS_CHANNELS_URL, … (see .env.example)
//
// It starts and serves with Redis up, down, hanging or rejecting the password.
import { buildApp } from './app.js'

const port = Number(process.env.PORT || 3000)
const host = process.env.HOST || '127.0.0.1'

const app = await buildApp()
await app.listen({ port, host })
app.log.info(`API docs: http://${host.includes(':') ? `[${host}]` : host}:${app.server.address()?.port ?? port}/docs`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`)
    app.close().then(() => process.exit(0), (error) => {
      app.log.error({ err: error }, 'close failed')
      process.exit(1)
    })
  })
}
