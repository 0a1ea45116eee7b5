// Compiles every .sol file of this folder with solc-js (no native toolchain), resolving
// @openzeppelin/contracts from deploy/nodes, and writes <Contract>.json (abi, bytecode) per
// contract into the folder given. Run by the deploy module's build: node compile.js <out>.
'use strict';
const fs = require('fs');
const path = require('path');
const nodes = path.join(__dirname, '..', 'nodes', 'node_modules');
const solc = require(path.join(nodes, 'solc'));

const out = process.argv[2];
if (!out) {
  console.error('usage: node compile.js <output folder>');
  process.exit(2);
}
const sources = {};
for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.sol')).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(__dirname, file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    // Cancun: what mainnet and the development nodes run; nothing newer is needed.
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 1000 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
function findImports(name) {
  const file = path.join(nodes, name);
  // Only the packages installed beside the nodes: nothing from elsewhere on the machine.
  if (!file.startsWith(nodes + path.sep) || !fs.existsSync(file)) {
    return { error: 'not found: ' + name };
  }
  return { contents: fs.readFileSync(file, 'utf8') };
}
const result = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (result.errors || []).filter((e) => e.severity === 'error');
for (const e of result.errors || []) {
  console.error(e.formattedMessage);
}
if (errors.length > 0) {
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });
for (const file of Object.keys(sources)) {
  for (const [name, contract] of Object.entries(result.contracts[file])) {
    fs.writeFileSync(
      path.join(out, name + '.json'),
      JSON.stringify(
        { contract: name, source: file, compiler: solc.version(), abi: contract.abi,
          bytecode: '0x' + contract.evm.bytecode.object },
        null, 2) + '\n');
    // Quiet unless asked: a build prints what a person reads.
    if (process.env.TXGW_VERBOSE) {
      console.log('compiled ' + name + ' (' + contract.evm.bytecode.object.length / 2 + ' bytes)');
    }
  }
}
