#!/usr/bin/env node
// The `fastify-resilient-redis` bin. Everything testable lives in runCli.
import { runCli } from './run-cli.js'

void runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => { process.exitCode = code })
