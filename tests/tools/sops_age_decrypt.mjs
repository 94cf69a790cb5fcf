// SPDX-License-Identifier: ISC
// node sops_age_decrypt.mjs FILE [env|json|yaml]
// Decrypts a sops file with the npm package `sops-age` (installed into
// tests/.peers by tests/tools/npm-peers.sh) and prints the result as JSON
// (keys sorted, so outputs compare with a plain string match).  The age
// key comes from SOPS_AGE_KEY (or sops-age's own discovery).  Exit 1 on
// any error, with the message on stderr.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.SOPS_AGE_PKG ||
  join(here, "..", ".peers", "node_modules", "sops-age");

function sorted(v) {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sorted(v[k]);
    return o;
  }
  return v;
}

const [file, type] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node sops_age_decrypt.mjs FILE [TYPE]\n");
  process.exit(2);
}
try {
  const { decryptSops } = await import(
    pathToFileURL(join(pkg, "dist", "index.js")).href);
  const opts = {};
  if (type) opts.fileType = type;
  if (process.env.SOPS_AGE_KEY) opts.secretKey = process.env.SOPS_AGE_KEY;
  const text = await readFile(file, "utf8");
  const out = await decryptSops(text, opts);
  process.stdout.write(JSON.stringify(sorted(out)) + "\n");
} catch (err) {
  process.stderr.write(`sops-age: ${file}: ${err && err.message || err}\n`);
  process.exit(1);
}
