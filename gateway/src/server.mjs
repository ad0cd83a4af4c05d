// Hive Gateway for the MDM supergraph.
//
// Environment (all required unless a default is shown):
//   MDM_GATEWAY_PORT (4000), MDM_GATEWAY_HOST (127.0.0.1)
//   MDM_JWT_SECRET            local HS256 key of client tokens (the embedded default,
//                             and the console's tokens), and/or
//   MDM_JWT_JWKS_URL          the identity provider's JWKS (production), with
//                             MDM_JWT_ALGORITHMS (RS256,ES256)
//   MDM_JWT_ISSUERS           allowed `iss` values, comma-separated
//   MDM_JWT_AUDIENCE (mdm), MDM_JWT_MAX_LIFETIME_S (3600), MDM_JWT_CLOCK_SKEW_S (30),
//   MDM_JWT_JWKS_COOLDOWN_S (30), MDM_JWT_JWKS_CACHE_S (600)   see tokens.mjs
//   MDM_GATEWAY_SECRET        key shared with the subgraphs to sign their requests
//   MDM_PROFILE_URL, MDM_MATCHING_URL, MDM_CONSENT_URL, MDM_DISTRIBUTION_URL
//                             subgraph /graphql endpoints
//   limits, CORS, rate limits, persisted documents: see policy.mjs
//   OTEL_EXPORTER_OTLP_ENDPOINT  enables trace export (see tracing.mjs)
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { composeSupergraph } from './compose.mjs';
import { useErrorCodes } from './errors.mjs';
import { admit, loadPolicy, policyPlugins, runtimeOptions } from './policy.mjs';
import { useGatewaySignature } from './signing.mjs';
import { tokenSettings, useTokens } from './tokens.mjs';
import { tracingPlugins } from './tracing.mjs';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`gateway: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}
const intEnv = (name, fallback) => Number.parseInt(process.env[name] ?? String(fallback), 10);

const port = intEnv('MDM_GATEWAY_PORT', 4000);
const host = process.env.MDM_GATEWAY_HOST || '127.0.0.1';
const gatewaySecret = required('MDM_GATEWAY_SECRET');
const policy = loadPolicy(process.env);

let supergraph;
let tokens;
try {
  tokens = tokenSettings();
  supergraph = composeSupergraph({
    profile: required('MDM_PROFILE_URL'),
    matching: required('MDM_MATCHING_URL'),
    consent: required('MDM_CONSENT_URL'),
    distribution: required('MDM_DISTRIBUTION_URL'),
  });
} catch (error) {
  console.error(`gateway: ${error.message}`);
  process.exit(2);
}

// Tracing first, so its spans wrap everything the other plugins do.
const otel = tracingPlugins();

const gateway = createGatewayRuntime({
  supergraph,
  transports: { http: httpTransport },
  graphqlEndpoint: '/graphql',
  landingPage: false,
  graphiql: false,
  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',
  ...runtimeOptions(policy),
  plugins: () => [
    ...otel,
    useErrorCodes(),
    useTokens(tokens),
    ...policyPlugins(policy),
    useGatewaySignature(gatewaySecret),
  ],
});

const server = createServer((req, res) => admit(policy, req, res) && gateway(req, res));

server.listen(port, host, () => {
  console.log(`gateway: listening on http://${host}:${port}/graphql`);
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections?.();
    await gateway.dispose?.();
    process.exit(0);
  });
}
