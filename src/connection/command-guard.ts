import { Command, type Redis } from 'ioredis'
import { isRedisUnavailableError } from '../unavailable-error.js'
import type { RoleGuard } from './roles.js'

/*
 * What the plugin adds to ioredis on each client it hands out, by wrapping
 * the instance's sendCommand (every command, pipelines included, passes
 * through it): deadlines for blocking commands, and no crash from a promise
 * nobody awaits when Redis is unavailable.
 */

const noop = (): void => {}

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

/**
 * Wraps `client.sendCommand`:
 * - a rejection that means Redis is unavailable is marked handled, so a
 *   library that fires a command and ignores its promise (socket.io's redis
 *   adapter publishes that way) cannot crash the process with an unhandled
 *   rejection during an outage; a caller that awaits still gets the error;
 * - with `guard.deadlines`, each command is bounded by commandBound(); past
 *   it the command fails with "Command timed out" and the connection is
 *   dropped (the server may still be blocked on it, or hanging), to be
 *   reconnected at once;
 * - with `guard.queueUntilReady`, the offline queue is turned off at the first
 *   ready.
 */
export function guardCommands (client: Redis, guard: RoleGuard, grace: number): void {
  if (guard.queueUntilReady) client.once('ready', () => { client.options.enableOfflineQueue = false })
  const send = client.sendCommand
  client.sendCommand = function guardedSendCommand (this: Redis, command: Command, stream?: Parameters<Redis['sendCommand']>[1]) {
    const reject = command.reject
    let timer: NodeJS.Timeout | undefined
    command.reject = (error: Error) => {
      clearTimeout(timer)
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
    return send.call(this, command, stream)
  }
}
