/** A step took longer than its bound. The code makes classifyFailure call it `hanging`. */
export class StepTimeoutError extends Error {
  override name = 'StepTimeoutError'
  readonly code = 'ETIMEDOUT'
  constructor (ms: number) {
    super(`no answer within ${ms} ms`)
  }
}

/**
 * Settles like `work`, or rejects with StepTimeoutError after `ms`. The
 * timer is cleared either way, so nothing is left to keep the process alive;
 * a late rejection of `work` is handled (Promise.race subscribes to it).
 */
export async function withTimeout<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StepTimeoutError(ms)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
