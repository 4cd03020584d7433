// (a) The same app without rate limiting and without Redis: the baseline.
import { serve } from './serve.js'

await serve(async () => {})
