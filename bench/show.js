#!/usr/bin/env node
// Prints the tables of a saved run again: node bench/show.js bench/results/<file>.json
import { readFileSync } from 'node:fs'
import { render, summarize } from './report.js'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: node bench/show.js <results.json>')
const { meta, runs } = JSON.parse(readFileSync(file, 'utf8'))
const shape = { faults: meta.options.faults, bootStates: ['up', 'refused', 'hanging', 'password-missing', 'password-wrong'], outages: meta.options.outages }
process.stdout.write(`${render(summarize(runs, shape), meta)}\n`)
