import type { CheckReport, ConfigErrorReport, ConnectionFailure, ConnectionReport, StepStatus } from './types.js'

/*
 * Rendering only: a CheckReport in, text out. Nothing here sees a password;
 * the report holds redacted URLs, variable names and scrubbed messages.
 */

const MARK: Record<StepStatus, string> = { ok: '✔', warn: '!', fail: '✘', skipped: '-' }
const FIX_AUTH_NOTE = 'run with --fix-auth for the exact change'

export interface TextOptions {
  fixAuth: boolean
}

function renderConnection (c: ConnectionReport, options: TextOptions): string[] {
  const password = c.passwordSet ? `password from ${c.passwordFrom}` : 'no password set'
  const user = c.username === null ? '' : `, ACL user "${c.username}"`
  const lines = [`${c.ok ? '✔' : '✘'} ${c.name}  ${c.url}`, `  located by ${c.locatedBy}, ${password}${user}`]
  if (c.topology.kind === 'sentinel') {
    const sentinelUser = c.topology.sentinelUsername === null ? '' : `, ACL user "${c.topology.sentinelUsername}"`
    lines.push(`  sentinels: ${c.topology.sentinelPasswordFrom === null ? 'no password set' : `password from ${c.topology.sentinelPasswordFrom}`}${sentinelUser}, master set "${c.topology.masterName}"`)
  }
  for (const step of c.steps) lines.push(`  ${MARK[step.status]} ${step.name.padEnd(10)} ${step.detail}`)
  if (c.failure !== null) lines.push(...advice(c.failure.hint, c.fixes, options))
  return lines
}

/** With --fix-auth the fixes, else the one-line hint and a pointer to --fix-auth. */
function advice (hint: string, fixes: string[], options: TextOptions): string[] {
  if (options.fixAuth) return ['  fix:', ...fixes.map((fix) => `    • ${fix}`)]
  return [`  hint: ${hint}`, `        (${FIX_AUTH_NOTE})`]
}

export function renderText (report: CheckReport, options: TextOptions): string {
  const lines = [`fastify-resilient-redis ${report.version}: checking ${report.connections.length} connection${report.connections.length === 1 ? '' : 's'}`, '']
  for (const c of report.connections) lines.push(...renderConnection(c, options), '')
  const failed = report.connections.filter((c) => !c.ok)
  lines.push(failed.length === 0
    ? `✔ every connection works (${report.connections.length})`
    : `✘ ${failed.length} of ${report.connections.length} failed: ${failed.map((c) => `${c.name} (${(c.failure as ConnectionFailure).class})`).join(', ')}`)
  return `${lines.join('\n')}\n`
}

/** A configuration error (exit 2), for stderr. */
export function renderConfigError (error: ConfigErrorReport, options: TextOptions): string {
  const lines = [`error ${error.code}: ${error.message}`]
  if (error.fixes.length > 0) {
    lines.push(...(options.fixAuth ? ['fix:', ...error.fixes.map((fix) => `  • ${fix}`)] : [`(${FIX_AUTH_NOTE})`]))
  }
  return `${lines.join('\n')}\n`
}

export function renderJson (report: CheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`
}
