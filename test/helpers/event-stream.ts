// A server-sent events client over fetch: the events a stream delivered, in
// order, parsed (`event:` and `data:` lines; comments and `retry:` skipped).
import { waitFor } from './app.js'

export interface StreamEvent {
  event: string
  data: string
  /** Date.now() when it arrived. */
  at: number
}

export interface EventStream {
  readonly status: number
  readonly contentType: string | null
  readonly events: StreamEvent[]
  /** Whether the server ended the stream. */
  readonly ended: boolean
  /** Waits (polling, at most `ms`) for an event that `match` accepts after the first `from` events; returns it, or undefined. */
  next: (match: (event: StreamEvent) => boolean, ms: number, from?: number) => Promise<StreamEvent | undefined>
  close: () => void
}

export async function openEventStream (url: string, boundMs: number): Promise<EventStream> {
  const abort = new AbortController()
  const timer = setTimeout(() => { abort.abort() }, boundMs)
  const res = await fetch(url, { signal: abort.signal })
  clearTimeout(timer)
  const events: StreamEvent[] = []
  let ended = false
  void (async () => {
    if (res.body === null) return
    const decoder = new TextDecoder()
    let buffered = ''
    try {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true })
        let end: number
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          let event = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length > 0) events.push({ event, data: data.join('\n'), at: Date.now() })
        }
      }
      ended = true
    } catch {
      // Aborted by close().
    }
  })()
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    get ended () { return ended },
    next: async (match, ms, from = 0) => {
      let found: StreamEvent | undefined
      await waitFor(() => (found = events.slice(from).find(match)) !== undefined || ended, ms)
      return found
    },
    close: () => { abort.abort() },
  }
}
