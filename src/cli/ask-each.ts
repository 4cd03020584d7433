import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import type { Address } from '../config/index.js'
import type { FailureClass } from '../failure-class.js'
import { round } from './step-runner.js'
import { withTimeout } from './timeout.js'

/*
 * Asking every sentinel, or every listed cluster node, at once: each
 * answer or its error, in the order of the list, each bounded in time, every
 * client closed before this resolves.
 */

export interface Answer<T> {
  address: Address
  ms: number
  result?: T
  error?: unknown
}

/** Failures that mean the server is not there for us (as opposed to one that answers wrongly). */
const UNREACHABLE: ReadonlySet<FailureClass> = new Set(['refused', 'hanging', 'dns', 'connection-lost', 'tls'])

export const isUnreachable = (failure: FailureClass): boolean => UNREACHABLE.has(failure)

/** Runs `ask` for each address in parallel; `ask` hands every client it opens to `track`. */
export async function askEach<T> (addresses: readonly Address[], boundMs: number, ask: (address: Address, track: (client: Redis) => void) => Promise<T>): Promise<Array<Answer<T>>> {
  return Promise.all(addresses.map(async (address): Promise<Answer<T>> => {
    const clients: Redis[] = []
    const started = performance.now()
    const outcome = await withTimeout(ask(address, (client) => { clients.push(client) }), boundMs)
      .then((result) => ({ result }), (error: unknown) => ({ error }))
    // Never waits: a server that stopped answering gets its socket destroyed after disconnectTimeout.
    for (const client of clients) client.disconnect()
    return { address, ms: round(performance.now() - started), ...outcome }
  }))
}
