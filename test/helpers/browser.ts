// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// and the few Swagger UI interactions the example's browser test needs.
// Every wait is bounded.
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'

/** Debian's package; override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// As root Chromium needs --no-sandbox; the rest keeps it off the network
// (the machine is offline) and quick to start.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

/** Launches headless Chromium; a missing browser fails loudly, never skips. */
export async function launchChromium (): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 })
}

/** Answers of the page's own requests (documents, scripts, the spec, "Execute"), to assert none failed. */
export interface PageTraffic {
  responses: Array<{ url: string; status: number }>
  failed: Array<{ url: string; error: string }>
}

export function recordTraffic (page: Page): PageTraffic {
  const traffic: PageTraffic = { responses: [], failed: [] }
  page.on('response', (res) => { traffic.responses.push({ url: res.url(), status: res.status() }) })
  page.on('requestfailed', (req) => { traffic.failed.push({ url: req.url(), error: req.failure()?.errorText ?? 'failed' }) })
  return traffic
}

/**
 * Opens the Swagger UI and waits until it lists `operations` operations.
 * Returns them as "METHOD /path", as the UI shows them.
 */
export async function openDocs (page: Page, docsUrl: string, operations: number, timeoutMs: number): Promise<string[]> {
  await page.goto(docsUrl, { timeout: timeoutMs, waitUntil: 'domcontentloaded' })
  await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, operations, { timeout: timeoutMs })
  return page.locator('.opblock .opblock-summary').evaluateAll((summaries) => summaries.map((summary) => {
    const method = summary.querySelector('.opblock-summary-method')?.textContent ?? ''
    const path = summary.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? ''
    return `${method.trim().toUpperCase()} ${path}`
  }))
}

/** The operation block of `method path` in the UI. */
export function operation (page: Page, method: string, path: string): Locator {
  return page.locator(`.opblock.opblock-${method.toLowerCase()}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
}

export interface ExecutedResponse {
  /** The status cell of the live response, e.g. "200". */
  status: string
  /** The response body as the UI shows it. */
  body: string
}

/**
 * "Try it out" → fill the parameters → "Execute", as a user would, and read
 * the response the UI shows in its live responses table.
 */
export async function tryItOut (op: Locator, params: Record<string, string>, timeoutMs: number): Promise<ExecutedResponse> {
  await op.locator('.opblock-summary-control').click({ timeout: timeoutMs })
  await op.locator('button.try-out__btn').click({ timeout: timeoutMs })
  for (const [name, value] of Object.entries(params)) {
    await op.locator(`tr[data-param-name="${name}"] input`).fill(value, { timeout: timeoutMs })
  }
  await op.locator('button.execute').click({ timeout: timeoutMs })
  const live = op.locator('.live-responses-table tbody tr.response')
  await live.first().waitFor({ state: 'visible', timeout: timeoutMs })
  const status = (await live.first().locator('.response-col_status').innerText({ timeout: timeoutMs })).trim()
  const body = await live.first().locator('.response-col_description pre').first().innerText({ timeout: timeoutMs })
  return { status, body }
}
