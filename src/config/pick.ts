import { ConflictingSettingsError } from '../errors.js'
import { conflictAdvice } from './conflict-advice.js'
import type { Env } from './types.js'

/*
 * How one field is decided from several settings: the first layer (options,
 * then the environment) that supplies it wins, and inside that layer every
 * setting that supplies it must agree.
 */

/** One setting that may supply a field; `read` runs only if its layer is consulted. */
export interface Candidate<T> {
  setting: string
  read: () => T | undefined
}

export function pick<T> (layers: Array<Array<Candidate<T>>>, same: (a: T, b: T) => boolean = Object.is): { value: T; setting: string } | undefined {
  for (const layer of layers) {
    let found: { value: T; setting: string } | undefined
    for (const candidate of layer) {
      const value = candidate.read()
      if (value === undefined) continue
      if (found === undefined) found = { value, setting: candidate.setting }
      else if (!same(found.value, value)) {
        throw new ConflictingSettingsError(found.setting, candidate.setting, conflictAdvice(found.setting, candidate.setting).advice)
      }
    }
    if (found !== undefined) return found
  }
  return undefined
}

/** Environment values: an empty string counts as unset. */
export function envValue (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : value
}

export function option<T> (setting: string, value: T | undefined): Candidate<T> {
  return { setting, read: () => value }
}

export function mapDefined<T, R> (value: T | undefined, map: (v: T) => R): R | undefined {
  return value === undefined ? undefined : map(value)
}
