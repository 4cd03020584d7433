#!/usr/bin/env node
// Prints the tables of a saved run again: node bench/show.js bench/results/<file>.json
// (files recorded before the scenarios of issue 14: check out the commit that made them).
import { readFileSync } from 'node:fs'
import { render, summarize } from './report.js'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: node bench/show.js <results.json>')
const { meta, scenarios, runs } = JSON.parse(readFileSync(file, 'utf8'))
if (scenarios === undefined) throw new Error(`${file} was recorded before the scenarios of issue 14; print it with the bench of its own commit`)
const shape = { scenarios, bootStates: ['up', 'refused', 'hanging', 'password-missing', 'password-wrong'], outages: meta.options.outages }
process.stdout.write(`${render(summarize(runs, shape), meta, scenarios)}\n`)
