/** Waits for `promise`, or `ms` at most; the timer never keeps the process alive. */
export async function waitAtMost (promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise((resolve) => { timer = setTimeout(resolve, ms).unref() })])
  clearTimeout(timer)
}
