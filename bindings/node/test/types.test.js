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
