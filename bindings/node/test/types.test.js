'use strict'
// The committed loader (native.js) and types (native.d.ts) agree with the
// addon, as the C header must agree with cbindgen's output: every export of
// the built addon is re-exported by native.js and declared in native.d.ts,
// and neither names anything the addon lacks. (`make node-types` regenerates
// both with the napi-rs CLI.)
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const addon = require(path.join(root, 'pixpress.linux-x64-gnu.node'))
const sorted = (names) => [...new Set(names)].sort()

test('native.js re-exports exactly what the addon exports', () => {
  const loader = fs.readFileSync(path.join(root, 'native.js'), 'utf8')
  const reexported = [...loader.matchAll(/^module\.exports\.(\w+) = nativeBinding\.\1$/gm)].map((m) => m[1])
  assert.deepEqual(sorted(reexported), sorted(Object.keys(addon)))
})

test('native.d.ts declares exactly what the addon exports', () => {
  const types = fs.readFileSync(path.join(root, 'native.d.ts'), 'utf8')
  const values = [...types.matchAll(/^export declare (?:function|class|const enum|const) (\w+)/gm)].map((m) => m[1]).filter((n) => !n.startsWith('__napi'))
  assert.deepEqual(sorted(values), sorted(Object.keys(addon)))
})

// Freshness, as the header's check regenerates it: each `#[napi]` function in src/*.rs has its
// parameters, by name and order, in native.d.ts (a signature changed in Rust and not regenerated
// with `make node-types` fails here).
function napiFunctions() {
  const found = new Map()
  for (const file of fs.readdirSync(path.join(root, 'src'))) {
    const source = fs.readFileSync(path.join(root, 'src', file), 'utf8')
    for (const match of source.matchAll(/^#\[napi[^\n]*\]\n(?:(?:#\[[^\n]*|\/\/\/[^\n]*)\n)*pub (?:async )?fn (\w+)\(/gm)) {
      let depth = 1
      let at = match.index + match[0].length
      const start = at
      while (depth > 0) {
        const c = source[at++]
        if (c === '(') depth++
        else if (c === ')') depth--
      }
      const params = splitTopLevel(source.slice(start, at - 1).replace(/#\[[^\]]*\]/g, ''))
        .map((p) => p.trim())
        .filter((p) => p && !/:\s*(Env|This)\b/.test(p))
        .map((p) => camel(p.split(':')[0].trim().replace(/^mut /, '')))
      found.set(camel(match[1]), params)
    }
  }
  return found
}

function splitTopLevel(text) {
  const parts = ['']
  let depth = 0
  for (const c of text) {
    if ('<([{'.includes(c)) depth++
    if ('>)]}'.includes(c)) depth--
    if (c === ',' && depth === 0) parts.push('')
    else parts[parts.length - 1] += c
  }
  return parts
}

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

test('native.d.ts declares each #[napi] function with the parameters of its Rust source', () => {
  const types = fs.readFileSync(path.join(root, 'native.d.ts'), 'utf8')
  const declared = new Map(
    [...types.matchAll(/^export declare function (\w+)\(([^\n]*)\):/gm)].map((m) => [
      m[1],
      splitTopLevel(m[2]).map((p) => p.trim()).filter(Boolean).map((p) => p.split(/\??:/)[0]),
    ]),
  )
  const functions = napiFunctions()
  assert.ok(functions.size > 20, `found ${functions.size} #[napi] functions in src/`)
  for (const [name, params] of functions) {
    assert.deepEqual(declared.get(name), params, `${name}: native.d.ts against src/`)
  }
})
