// SPDX-License-Identifier: ISC
// node age_pq_bench.mjs SECS (run from tests/.peers): the JavaScript side of
// tests/bench/pq.sh.  @noble/post-quantum ML-KEM-768 keygen/encaps/decaps
// per second and age-encryption (typage) hybrid encrypt+decrypt round trips
// of a 1 KB file per second, printed as one JSON object.
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
const require = createRequire(process.cwd() + "/");
const load = async (m) => import(pathToFileURL(require.resolve(m)).href);
const { ml_kem768 } = await load("@noble/post-quantum/ml-kem.js");
const age = await load("age-encryption");
const secs = Number(process.argv[2] || 1);
const rate = async (f) => {
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < secs * 1000) { await f(); n++; }
  return n / ((performance.now() - t0) / 1000);
};
const { publicKey, secretKey } = ml_kem768.keygen();
const { cipherText } = ml_kem768.encapsulate(publicKey);
const id = await age.generateHybridIdentity();
const rcpt = await age.identityToRecipient(id);
const msg = randomBytes(1024);
const r = {
  keygen: await rate(() => ml_kem768.keygen()),
  encaps: await rate(() => ml_kem768.encapsulate(publicKey)),
  decaps: await rate(() => ml_kem768.decapsulate(cipherText, secretKey)),
  age_pq_1k: await rate(async () => {
    const e = new age.Encrypter(); e.addRecipient(rcpt);
    const d = new age.Decrypter(); d.addIdentity(id);
    const out = await d.decrypt(await e.encrypt(msg));
    if (out.length !== 1024) throw new Error("round trip failed");
  }),
};
console.log(JSON.stringify(Object.fromEntries(
  Object.entries(r).map(([k, v]) => [k, Math.round(v)]))));
