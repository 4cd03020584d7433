/*
 * The end of the event loop's poll phase, where a batch of increments goes
 * out: every request read in one phase then shares one script call (one
 * socket write that wakes Redis, one reply), instead of the first going out
 * alone. It is Node's own setImmediate, and only while nothing has replaced
 * it: an app's tests may fake the clock (@sinonjs/fake-timers, as Jest and
 * Vitest use; node:test's mock timers), and a faked immediate runs only when
 * the test ticks the clock, so a request waiting for it would never be
 * answered. With a fake in place the caller sends at once instead.
 */

type Immediate = (callback: () => void) => unknown

// Taken when this module loads: a fake installed later replaces the global, not this.
const nodeSetImmediate: Immediate = globalThis.setImmediate

/**
 * Whether a setImmediate is Node's own, as far as can be told: a fake
 * installed before this module loaded is what it holds, so the marks fakes
 * leave count too: fake-timers' functions carry their `clock`, node:test's is
 * named `bound #setImmediate`, Jest's legacy ones `mockConstructor`.
 */
function looksLikeNodeSetImmediate (candidate: Immediate): boolean {
  return candidate.name === 'setImmediate' && !('clock' in candidate)
}

/**
 * Runs `callback` at the end of this poll phase and returns true, or returns
 * false and runs nothing when the clock may be fake (then the caller must not
 * wait for it).
 */
export function atPhaseEnd (callback: () => void): boolean {
  const current = globalThis.setImmediate
  if (current !== nodeSetImmediate || !looksLikeNodeSetImmediate(current)) return false
  current(callback)
  return true
}
