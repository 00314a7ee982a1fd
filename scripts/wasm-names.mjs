// Usage: node scripts/wasm-names.mjs BEFORE.wasm AFTER.wasm MAP.json GLUE.js
//
// scripts/build runs `wasm-opt --minify-imports-and-exports-and-modules` on the module after
// wasm-bindgen: the import names wasm-bindgen gives (`__wbg_decode_0315fda575b058f2`, a hash
// each), its export names (closure shims are ~150 characters) and the import module name become
// one or two letters. Those names are in both the module and its glue, and their hashes do not
// compress (-2.3 KB gzipped in the MP4 module). This script applies binaryen's rename map
// (MAP.json, what wasm-opt printed) to the glue: the keys of the import object, its module key
// and every `wasm.NAME` export access. It checks the result against both modules and exits
// non-zero without writing when anything does not match, so that scripts/build can keep the
// names as they were.
import { readFileSync, writeFileSync } from 'node:fs';

const [before, after, mapFile, glueFile] = process.argv.slice(2);
const fail = (why) => {
  console.error(`wasm-names: ${why}`);
  process.exit(1);
};
if (!glueFile) fail('usage: wasm-names.mjs BEFORE.wasm AFTER.wasm MAP.json GLUE.js');

const mod = (f) => new WebAssembly.Module(readFileSync(f));
const [old, neu] = [mod(before), mod(after)];
const map = JSON.parse(readFileSync(mapFile, 'utf8'));
let glue = readFileSync(glueFile, 'utf8');
const esc = (s) => s.replace(/[$]/g, '\\$');
const ident = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

// Import modules: wasm-bindgen's glue provides one (`"./NAME_bg.js": import0`).
const oldModules = [...new Set(WebAssembly.Module.imports(old).map((i) => i.module))];
const newModules = [...new Set(WebAssembly.Module.imports(neu).map((i) => i.module))];
if (oldModules.length !== 1 || newModules.length !== 1) {
  fail(`expected one import module, found ${oldModules.join(', ')} -> ${newModules.join(', ')}`);
}
const moduleKey = new RegExp(`(["'])${esc(oldModules[0]).replace(/[.\/]/g, '\\$&')}\\1(\\s*:)`, 'g');
if ((glue.match(moduleKey) ?? []).length !== 1) fail(`module key ${oldModules[0]} not found once in the glue`);
glue = glue.replace(moduleKey, `"${newModules[0]}"$2`);

// Import names: the keys of the import object (each once).
const renamedImports = new Map();
for (const [, from, to] of map.imports) {
  if (!ident.test(from) || !ident.test(to)) fail(`unexpected import name ${from} -> ${to}`);
  renamedImports.set(from, to);
}
// Two passes through placeholders, so that a new name that equals another old name is safe.
const placeholder = (i) => `\u0000${i}\u0000`;
const importList = [...renamedImports];
importList.forEach(([from], i) => {
  const key = new RegExp(`(?<![A-Za-z0-9_$])${esc(from)}(?=\\s*:\\s*function)`, 'g');
  const n = (glue.match(key) ?? []).length;
  if (n !== 1) fail(`import ${from} found ${n} times in the glue`);
  glue = glue.replace(key, placeholder(i));
});
importList.forEach(([, to], i) => {
  glue = glue.replace(placeholder(i), to);
});

// Export names: every `wasm.NAME`.
const renamedExports = new Map(map.exports.map(([from, to]) => [from, to]));
glue = glue.replace(/(?<![A-Za-z0-9_$])wasm\.([A-Za-z_$][A-Za-z0-9_$]*)/g, (all, name) => {
  const to = renamedExports.get(name);
  if (to === undefined) fail(`the glue uses export ${name}, which the rename map lacks`);
  return `wasm.${to}`;
});

// Check: the glue provides every import of the new module and uses only its exports.
const newExports = new Set(WebAssembly.Module.exports(neu).map((e) => e.name));
for (const name of glue.matchAll(/(?<![A-Za-z0-9_$])wasm\.([A-Za-z_$][A-Za-z0-9_$]*)/g)) {
  if (!newExports.has(name[1])) fail(`the glue uses wasm.${name[1]}, which the module does not export`);
}
for (const { name } of WebAssembly.Module.imports(neu)) {
  const key = new RegExp(`(?<![A-Za-z0-9_$])${esc(name)}\\s*:\\s*function`);
  if (!key.test(glue)) fail(`the module imports ${name}, which the glue does not provide`);
}
writeFileSync(glueFile, glue);
console.log(
  `wasm-names: ${renamedImports.size} imports, ${renamedExports.size} exports renamed in ${glueFile}`,
);
