import { Command, type Cluster, type Redis } from 'ioredis'
import { RedisUnavailableError } from '../errors.js'
import { classifyFailure, isTopologyMismatch } from '../failure-class.js'
import { isRedisUnavailableError } from '../unavailable-error.js'
import type { RoleGuard } from './roles.js'

/*
 * What the plugin adds to ioredis on each client it hands out, by wrapping
 * the instance's sendCommand (every command, pipelines included, passes
 * through it): deadlines for blocking commands, and no crash from a promise
 * nobody awaits when Redis is unavailable.
 */

/** For a promise whose failure is handled elsewhere (or is of no consequence), so it is not an unhandled rejection. */
export const noop = (): void => {}

/** WAIT and WAITAOF block too (their last argument is the timeout in ms), though ioredis does not list them. */
const WAIT_COMMANDS = new Set(['wait', 'waitaof'])

/**
 * How long a command may take before the plugin gives up on it, in ms, or
 * undefined for no bound: a blocking command's own block time plus `grace`,
 * any other command `grace`; one that blocks forever (timeout 0) has none.
 */
export function commandBound (command: Command, grace: number): number | undefined {
  const name = command.name.toLowerCase()
  let block: number | null | undefined
  if (WAIT_COMMANDS.has(name)) block = Number(command.args[command.args.length - 1])
  else if (Command.checkFlag('BLOCKING_COMMANDS', name)) block = command.extractBlockingTimeout()
  // XREAD without BLOCK (null) answers at once, like any other command.
  if (block === undefined || block === null || Number.isNaN(block)) return grace
  return block === 0 ? undefined : block + grace
}

/** Commands whose arguments carry a password: AUTH [user] password, HELLO … AUTH user password. */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello'])

/**
 * ioredis copies a failed command's name and arguments onto its error
 * (`error.command`), and it fails the commands queued behind a rejected
 * handshake with that same error: whoever logs one of those (`{ err }`, as
 * BullMQ's error events invite) would write the password. Its arguments
 * are replaced, on the error object itself, before anyone sees it.
 */
export function hideCredentials (error: Error): void {
  const failed = (error as { command?: { name?: unknown; args?: unknown } }).command
  if (typeof failed?.name !== 'string' || !CREDENTIAL_COMMANDS.has(failed.name.toLowerCase()) || !Array.isArray(failed.args)) return
  failed.args = failed.name.toLowerCase() === 'hello' ? failed.args.slice(0, 1).concat(['AUTH', '***']) : ['***']
}

/**
 * Wraps `client.sendCommand`:
 * - a rejected AUTH or HELLO leaves no password on its error (hideCredentials);
 * - a rejection that means Redis is unavailable is marked handled, so a
 *   library that fires a command and ignores its promise (socket.io's redis
 *   adapter publishes that way) cannot crash the process with an unhandled
 *   rejection during an outage; a caller that awaits still gets the error;
 * - with `guard.deadlines`, each command is bounded by commandBound(); past
 *   it the command fails with "Command timed out" and the connection is
 *   dropped (the server may still be blocked on it, or hanging), to be
 *   reconnected at once;
 * - with `guard.queueUntilReady`, the offline queue is turned off at the first
 *   ready;
 * - with `onFirstLongBlock`, the first failed command that blocks for the
 *   command timeout or longer is reported (once);
 * - with `oneServer`, a reply that only a cluster node or a sentinel sends
 *   (CROSSSLOT, MOVED, a sentinel's unknown GET) is the plugin's
 *   RedisUnavailableError (503), its cause the reply: the settings reach the
 *   wrong kind of server (connection-monitor.ts says so), not a bad command.
 */
export function guardCommands (client: Redis | Cluster, guard: RoleGuard, grace: number, onFirstLongBlock?: (command: string) => void, oneServer = false): void {
  let warnLongBlock = onFirstLongBlock
  if (guard.queueUntilReady) client.once('ready', () => { client.options.enableOfflineQueue = false })
  const send = client.sendCommand as (this: Redis | Cluster, command: Command, stream?: unknown, node?: unknown) => unknown
  // A Cluster's sendCommand takes a third argument (the node); both are passed on as given
  // (named, not a rest array: this runs for every command).
  ;(client as { sendCommand: unknown }).sendCommand = function guardedSendCommand (this: Redis | Cluster, command: Command, stream?: unknown, node?: unknown) {
    const reject = command.reject
    let timer: NodeJS.Timeout | undefined
    command.reject = (failure: Error) => {
      clearTimeout(timer)
      hideCredentials(failure)
      const error = oneServer && failure.name === 'ReplyError' && isTopologyMismatch(classifyFailure(failure)) ? new RedisUnavailableError({ cause: failure }) : failure
      // Looked at on failure only, off the path of every command: a command that blocks as long
      // as the command timeout or longer (BullMQ's Worker on a fail-fast client, say) is cut
      // there. Said once, with the role that serves it.
      if (warnLongBlock !== undefined) {
        const bound = commandBound(command, grace)
        if (bound === undefined || bound >= 2 * grace) {
          warnLongBlock(command.name.toUpperCase())
          warnLongBlock = undefined
        }
      }
      if (isRedisUnavailableError(error)) command.promise.catch(noop)
      reject.call(command, error)
    }
    if (guard.deadlines) {
      const bound = commandBound(command, grace)
      if (bound !== undefined) {
        const resolve = command.resolve
        command.resolve = (value: unknown) => {
          clearTimeout(timer)
          resolve.call(command, value)
        }
        // Settling clears the timer (both settle through the wrappers above), so it fires only on a command still waiting.
        timer = setTimeout(() => {
          command.reject(new Error('Command timed out'))
          client.disconnect(true)
        }, bound)
        timer.unref()
      }
    }
    return send.call(this, command, stream, node)
  }
}
