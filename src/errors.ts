import createError, { type FastifyErrorConstructor } from '@fastify/error'
import { safeCause } from './redact.js'

/*
 * Every error this package throws, in one place. Messages name the setting and
 * say what to do; they never contain a secret (callers pass variable names and
 * masked URLs only). `instanceof` works across copies of the package because
 * @fastify/error keys instances on `Symbol.for(code)`.
 *
 * Each constant has an explicit type built from a named type import, so the
 * emitted declarations never reach a type through @fastify/error's default
 * import (which strict consumers cannot resolve under `moduleResolution:
 * bundler`, nor from CommonJS under `nodenext`).
 */

/** A constructor of coded errors with this code, status code and arguments. */
export type CodedErrorConstructor<Code extends string, StatusCode extends number, Args extends unknown[]> =
  FastifyErrorConstructor<{ code: Code, statusCode: StatusCode }, Args>

/**
 * The same error class, except that a `cause` passed to it is stored as a
 * safeCause copy (name, code, message, nothing else), never as the original:
 * whatever a caller passes, no foreign error with a secret in its properties
 * (Node's URL error keeps the raw URL in `input`) can hang off one of ours.
 */
function withSafeCause<E extends { code: string }, A extends unknown[]> (Raw: FastifyErrorConstructor<E, A>): FastifyErrorConstructor<E, A> {
  function SafeCauseError (...args: A) {
    const last = args[args.length - 1] as { cause?: unknown } | undefined
    if (typeof last === 'object' && last !== null && 'cause' in last) args[args.length - 1] = { cause: safeCause(last.cause, []) }
    const error = new Raw(...args)
    // The stack starts where the caller threw, as with the original class.
    Error.captureStackTrace(error, SafeCauseError)
    return error
  }
  // Statics and Symbol.hasInstance (instanceof) come from the original class.
  Object.setPrototypeOf(SafeCauseError, Raw)
  SafeCauseError.prototype = Raw.prototype
  return SafeCauseError as unknown as FastifyErrorConstructor<E, A>
}

/** A setting could not be understood: `(setting, what was wrong, what to do)`. */
export const InvalidSettingError: CodedErrorConstructor<'FRR_ERR_INVALID_SETTING', 500, [string, string, string, { cause: unknown }?]> = withSafeCause(createError(
  'FRR_ERR_INVALID_SETTING',
  '%s %s; %s',
  500
))

/** Two settings disagree: `(first, second, what to do)`. */
export const ConflictingSettingsError: CodedErrorConstructor<'FRR_ERR_CONFLICTING_SETTINGS', 500, [string, string, string]> = createError(
  'FRR_ERR_CONFLICTING_SETTINGS',
  '%s and %s disagree; %s',
  500
)

/** A password is required (production) but none is configured: `(connection, where to set it)`. */
export const PasswordRequiredError: CodedErrorConstructor<'FRR_ERR_PASSWORD_REQUIRED', 500, [string, string]> = createError(
  'FRR_ERR_PASSWORD_REQUIRED',
  'Redis connection "%s" has no password, but requirePassword is on (the default when NODE_ENV=production); %s',
  500
)

/** A password file could not be read: `(variable, path, reason)`; carries a safe copy of the fs error as `cause`. */
export const PasswordFileError: CodedErrorConstructor<'FRR_ERR_PASSWORD_FILE', 500, [string, string, string, { cause: unknown }?]> = withSafeCause(createError(
  'FRR_ERR_PASSWORD_FILE',
  '%s (%s) %s; point it at a readable file that holds only the password',
  500
))

/** The plugin was registered twice on the same instance. */
export const AlreadyRegisteredError: CodedErrorConstructor<'FRR_ERR_ALREADY_REGISTERED', 500, []> = createError(
  'FRR_ERR_ALREADY_REGISTERED',
  'fastify-resilient-redis is already registered on this instance (app.redis exists); register it once, and use the `clients` option for more connections',
  500
)

/**
 * Redis cannot serve the request right now. Routes may throw it themselves;
 * the plugin also turns the ioredis errors that mean the same into it (503).
 */
export const RedisUnavailableError: CodedErrorConstructor<'FRR_ERR_REDIS_UNAVAILABLE', 503, [{ cause: unknown }?]> = createError(
  'FRR_ERR_REDIS_UNAVAILABLE',
  'Redis is unavailable; try again shortly',
  503
)

/** Codes of every error above, for `isResilientRedisError`. */
export const ERROR_CODES = [
  'FRR_ERR_INVALID_SETTING',
  'FRR_ERR_CONFLICTING_SETTINGS',
  'FRR_ERR_PASSWORD_REQUIRED',
  'FRR_ERR_PASSWORD_FILE',
  'FRR_ERR_ALREADY_REGISTERED',
  'FRR_ERR_REDIS_UNAVAILABLE',
] as const

export type ResilientRedisErrorCode = (typeof ERROR_CODES)[number]

export interface ResilientRedisError extends Error {
  code: ResilientRedisErrorCode
  statusCode?: number
}

/** True for an error thrown by any copy of this package (checks the code, not the class). */
export function isResilientRedisError (value: unknown): value is ResilientRedisError {
  const code = (value as { code?: unknown } | null | undefined)?.code
  return value instanceof Error && typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)
}
