// npm test runs the fault and topology tests a second time against Valkey:
// say what to install when valkey-server is missing, instead of a spawn error.
import { execFileSync } from 'node:child_process'

try {
  execFileSync('valkey-server', ['--version'], { stdio: 'ignore' })
} catch {
  process.stderr.write('valkey-server not found: the tests also run against Valkey 8. On Debian bookworm: ' +
    'add bookworm-backports to the apt sources, then apt-get install -t bookworm-backports valkey-server ' +
    '(.ci/run does both, and keeps the package\'s service from starting).\n')
  process.exit(1)
}
