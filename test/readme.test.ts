// README.md is read on npm too, where a relative link goes nowhere: every link
// is absolute or an anchor of the page, and what it links to in this package
// (through unpkg) ships in the tarball.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const UNPKG = /^https:\/\/unpkg\.com\/fastify-resilient-redis(?:@[^/]+)?\/(.+)$/

/** Link targets of a Markdown text, outside code: inline links and images, reference definitions, HTML href/src. */
function linkTargets (markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '')
  return [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string),
    ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1] as string),
    ...[...prose.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1] as string),
  ]
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const links = linkTargets(readme)

t.test('the link finder sees every kind of link, and none in code', async (t) => {
  const sample = '[a](x.md) ![b](img/c.png "title")\n[d]: e.md\n<a href="f.md">f</a> <img src=\'g.png\'>\n`[h](h.md)`\n```\n[i](i.md)\n```\n'
  t.same(linkTargets(sample), ['x.md', 'img/c.png', 'e.md', 'f.md', 'g.png'])
})

t.test('README links are absolute or anchors of the page that exist', async (t) => {
  t.ok(links.length > 5, `${links.length} links found`)
  const relative = links.filter((link) => !/^(https?:|mailto:|#)/.test(link))
  t.same(relative, [], 'no relative link (it would break on npm)')
  const headings = new Set([...readme.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1] as string)))
  const anchors = links.filter((link) => link.startsWith('#'))
  t.ok(anchors.length > 0, `${anchors.length} in-page links`)
  t.same(anchors.filter((link) => !headings.has(link.slice(1))), [], 'every #anchor is a heading')
})

t.test('every file README links to through unpkg ships in the tarball', async (t) => {
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>
  const files = new Set(packed[0]?.files.map((f) => f.path))
  const unpkg = links.flatMap((link) => UNPKG.exec(link)?.[1] ?? [])
  t.ok(unpkg.includes('BENCHMARKS.md') && unpkg.includes('examples/docs-app/docs-screenshot.png'), 'the benchmarks and the screenshot')
  t.same(unpkg.filter((path) => !files.has(path)), [], 'in the tarball')
})
