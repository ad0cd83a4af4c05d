// The gateway's token check per request, in process:
//   node bench/token_verify.mjs [verifications]
// A local-key (HS256) token verified in full (each token new to the verifier) against
// one verified before and remembered (the same token again, as a client sends it on
// every request until it expires). The two alternate, so both see the same load.
import { createRequire } from 'node:module';
import { createTokenVerifier, tokenSettings } from '../gateway/src/tokens.mjs';

// The gateway's own jose (bench/ has no node_modules).
const { SignJWT } = createRequire(new URL('../gateway/package.json', import.meta.url))('jose');

const count = Number.parseInt(process.argv[2] ?? '20000', 10);
const secret = 'bench-secret-0123456789abcdef0123456789';
const verify = createTokenVerifier(tokenSettings({ MDM_JWT_SECRET: secret, MDM_JWT_ISSUERS: 'mdm-dev' }));
const now = Math.floor(Date.now() / 1000);
const mint = (subject) =>
  new SignJWT({ sub: subject, roles: ['app'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('mdm-dev')
    .setAudience('mdm')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(Buffer.from(secret));

const warmUp = 2000;
const fresh = await Promise.all(Array.from({ length: count + warmUp }, (_, i) => mint(`client-${i}`)));
const same = await mint('one-client');
const percentile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
};
const timed = async (token) => {
  const started = process.hrtime.bigint();
  await verify(token);
  return Number(process.hrtime.bigint() - started) / 1000;
};
for (let i = 0; i < warmUp; i++) await verify(fresh[i]);
const full = [];
const remembered = [];
for (let i = 0; i < count; i++) {
  full.push(await timed(fresh[warmUp + i]));
  remembered.push(await timed(same));
}
for (const [label, values] of [['verified in full', full], ['remembered', remembered]]) {
  console.log(`${label}: p50 ${percentile(values, 0.5).toFixed(1)} us, p99 ${percentile(values, 0.99).toFixed(1)} us`);
}
