import { performance } from 'node:perf_hooks'
import { classifyFailure, failureHint, type FailureClass, type FailureContext } from '../failure-class.js'
import { scrubError } from '../redact.js'
import { failedStepDetail } from './fixes.js'
import type { StepOutcome } from './network-steps.js'
import { withTimeout } from './timeout.js'
import type { CheckFailureClass, ConnectionFailure, StepName, StepResult } from './types.js'

/*
 * Running steps in order, each bounded in time; the first failure skips the
 * rest. A failure's words come from its class (failure-class.ts) and the
 * server the steps talk to, unless the step diagnosed it itself and throws a
 * StepProblem with its own words.
 */

export interface Step {
  name: StepName
  run: () => Promise<StepOutcome>
  /** How a failure of this step is called; classifyFailure unless said otherwise. */
  classify?: (error: unknown) => FailureClass
}

/** A failure a step found and put in words itself (a cluster that is down, a master name nobody knows). */
export class StepProblem extends Error {
  override name = 'StepProblem'
  constructor (readonly failureClass: CheckFailureClass, readonly detail: string, readonly hint: string, readonly fixes: readonly string[]) {
    super(detail)
  }
}

/** The first failure of a connection and what to change for it. */
export interface Failed {
  failure: ConnectionFailure
  fixes: string[]
}

export interface RunContext {
  stepMs: number
  /** Every configured password, scrubbed from every message. */
  secrets: readonly string[]
  /** The server the steps talk to, for the words of a failure. */
  words: FailureContext
  /** What to change for a failure of that class on that server (check --fix-auth). */
  fixes: (failureClass: FailureClass) => string[]
}

export const round = (ms: number): number => Math.round(ms * 10) / 10

/** The result of a step that did not run because `step` failed before it. */
export function notRun (name: StepName, step: StepName): StepResult {
  return { name, status: 'skipped', ms: 0, detail: `not run: ${step} failed` }
}

/** What a failed step says, in the report and in its line. */
export function failedStep (name: StepName, error: unknown, classify: (error: unknown) => FailureClass, ctx: RunContext): { failed: Failed; detail: string } {
  if (error instanceof StepProblem) {
    return { failed: { failure: { step: name, class: error.failureClass, message: error.detail, hint: error.hint }, fixes: [...error.fixes] }, detail: `${error.failureClass}: ${error.detail}` }
  }
  const failureClass = classify(error)
  const { message } = scrubError(error, ctx.secrets)
  return {
    failed: { failure: { step: name, class: failureClass, message, hint: failureHint(failureClass, ctx.words) }, fixes: ctx.fixes(failureClass) },
    detail: failedStepDetail(failureClass, ctx.words, message),
  }
}

/**
 * Runs `steps` after what `results` already holds, appending to it. With a
 * failure before (`prior`), every step is shown as not run. Resolves to the
 * first failure, or null.
 */
export async function runSteps (steps: readonly Step[], ctx: RunContext, results: StepResult[], prior: Failed | null = null): Promise<Failed | null> {
  let failed = prior
  for (const step of steps) {
    if (failed !== null) {
      results.push(notRun(step.name, failed.failure.step))
      continue
    }
    const started = performance.now()
    try {
      const outcome = await withTimeout(step.run(), ctx.stepMs)
      results.push({ name: step.name, status: outcome.status, ms: round(performance.now() - started), detail: outcome.detail })
    } catch (error) {
      const verdict = failedStep(step.name, error, step.classify ?? classifyFailure, ctx)
      failed = verdict.failed
      results.push({ name: step.name, status: 'fail', ms: round(performance.now() - started), detail: verdict.detail })
    }
  }
  return failed
}
