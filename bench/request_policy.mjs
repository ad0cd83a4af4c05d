// The gateway's request policy work for one federated read, in process:
//   node bench/request_policy.mjs [clients]
// admit() (length, media type), the CORS decision, the suggestions plugin's role
// check and the rate limiter (its walk over the document and the client's window),
// for issue 3's 360 read against the composed supergraph. `clients` token subjects
// take turns (default 4), each staying under the default limit's window record.
import { createRequire } from 'node:module';
import { composeSupergraph } from '../gateway/src/compose.mjs';
import { admit, loadPolicy, policyPlugins, runtimeOptions } from '../gateway/src/policy.mjs';

// The gateway's own graphql (bench/ has no node_modules).
const { buildSchema, parse } = createRequire(new URL('../gateway/package.json', import.meta.url))('graphql');

const clients = Number.parseInt(process.argv[2] ?? '4', 10);
const urls = { profile: 'http://p/graphql', matching: 'http://m/graphql', consent: 'http://c/graphql' };
const schema = buildSchema(composeSupergraph(urls), { assumeValid: true, assumeValidSDL: true });
const document = parse(`query Person360($id: ID!) { person(id: $id) {
  id givenName familyName email household { id members { personId role } }
  consents { purpose type channel occurredAt } matching { registered }
  matchCandidates { personId score } } }`);

function run(policy, n) {
  const plugins = policyPlugins(policy);
  const limiter = policy.rateLimitMax > 0 ? plugins.at(-1) : { onExecute() {} };
  const suggestions = plugins.find((p) => p.onValidate && p.onExecute && p !== limiter);
  const { cors } = runtimeOptions(policy);
  const req = { method: 'POST', headers: { 'content-length': '300', 'content-type': 'application/json' } };
  const request = { headers: new Headers({ origin: 'http://127.0.0.1:4100' }) };
  const context = { jwt: { payload: { sub: 'bench', roles: ['app'] } } };
  const times = [];
  for (let i = 0; i < n; i++) {
    context.jwt.payload.sub = `bench-${i % clients}`;
    const start = process.hrtime.bigint();
    admit(policy, req, null);
    cors(request);
    suggestions.onValidate({ context });
    suggestions.onExecute({ args: { contextValue: context } });
    limiter.onExecute({
      args: { document, schema, contextValue: context, variableValues: { id: 'x' }, rootValue: {} },
      setResultAndStopExecution: () => {},
    });
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times.sort((a, b) => a - b);
}

// Paced so that no client goes over the default 500 per second.
const n = 300 * clients;
for (const [label, env] of [['without rate limit', { MDM_RATE_LIMIT_MAX: '0' }], ['default policy', {}]]) {
  run(loadPolicy(env), n); // warm-up
  const times = run(loadPolicy(env), n);
  const at = (q) => times[Math.floor(q * (times.length - 1))].toFixed(1);
  console.log(`${label}: p50 ${at(0.5)} us, p99 ${at(0.99)} us over ${n} reads`);
}
