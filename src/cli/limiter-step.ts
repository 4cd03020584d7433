import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { replyError } from '../rate-limit/failure-cause.js'
import { INCREMENT_SCRIPT } from '../rate-limit/scripts.js'
import type { StepOutcome } from './network-steps.js'

/** The window of the check's own counter: it is gone a few seconds after the check. */
const PROBE_WINDOW_MS = 5000

/** The counter `check` writes: inside the limiter's key prefix, so the ACL's key pattern applies. */
export function limiterProbeKey (nameSpace: string): string {
  return `${nameSpace}__frr_check__`
}

/**
 * Does what the rate limiter does, with the app's credentials: runs its
 * increment script on a probe key inside the key prefix, by EVAL and by
 * EVALSHA (the plugin sends EVALSHA first and EVAL when the server lacks the
 * script, so a user needs both), then reads the counter's expiry. An error
 * reply of the script's own (`{ -1, "OOM …" }`) fails the step like a thrown
 * one.
 */
export async function limiterStep (client: Redis | Cluster, nameSpace: string): Promise<StepOutcome> {
  const key = limiterProbeKey(nameSpace)
  // numkeys, the key, one rule (window, max 1, no mode), one request under rule 0.
  const args = [1, key, 1, PROBE_WINDOW_MS, 1, 0, 1, 0] as const
  const counted = async (reply: unknown): Promise<number> => {
    const [current, detail] = reply as [number | string, number | string]
    if (Number(current) === -1) throw replyError(String(detail))
    return Number(current)
  }
  await counted(await client.eval(INCREMENT_SCRIPT, ...args))
  const sha = createHash('sha1').update(INCREMENT_SCRIPT).digest('hex')
  const current = await counted(await client.evalsha(sha, ...args))
  // Read back as the app would see it; the script itself refuses to count where it could not set one.
  const ttl = await client.pttl(key)
  return { status: 'ok', detail: `the limiter's script counts on ${key} by EVAL and EVALSHA (count ${current}, expires in ${ttl} ms)` }
}
