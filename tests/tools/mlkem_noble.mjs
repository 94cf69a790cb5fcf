// SPDX-License-Identifier: ISC
// node mlkem_noble.mjs N        -> N lines "d z m ek dk c K c' K'" (hex)
//   made by @noble/post-quantum's ML-KEM-768 on random inputs, for
//   tests/unit/test_mlkem.c (SOTTO_MLKEM_CROSS).
// node mlkem_noble.mjs bench S  -> keygen/encaps/decaps per second, S secs
// Run from tests/.peers (tests/tools/pq-peers.sh installs the package).
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
const require = createRequire(process.cwd() + "/");
const { ml_kem768 } = await import(
  pathToFileURL(require.resolve("@noble/post-quantum/ml-kem.js")).href);
const hex = (b) => Buffer.from(b).toString("hex");
const [a, b] = process.argv.slice(2);
if (a === "bench") {
  const secs = Number(b || 2);
  const rate = (f) => {
    let n = 0; const t0 = performance.now();
    while (performance.now() - t0 < secs * 1000) { f(); n++; }
    return n / ((performance.now() - t0) / 1000);
  };
  const { publicKey, secretKey } = ml_kem768.keygen();
  const { cipherText } = ml_kem768.encapsulate(publicKey);
  console.log(JSON.stringify({
    keygen: rate(() => ml_kem768.keygen()),
    encaps: rate(() => ml_kem768.encapsulate(publicKey)),
    decaps: rate(() => ml_kem768.decapsulate(cipherText, secretKey)),
  }));
} else {
  for (let i = 0; i < Number(a || 20); i++) {
    const seed = randomBytes(64), m = randomBytes(32);
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, m);
    const bad = randomBytes(1088);
    const k2 = ml_kem768.decapsulate(bad, secretKey);
    console.log([hex(seed.subarray(0, 32)), hex(seed.subarray(32)), hex(m),
      hex(publicKey), hex(secretKey), hex(cipherText), hex(sharedSecret),
      hex(bad), hex(k2)].join(" "));
  }
}
