// Client tokens: every GraphQL request carries a bearer JWT, verified here before
// anything is parsed; the verified claims travel to the subgraphs in
// extensions.jwt.payload (never the raw token).
//
// Rules (settings in parentheses, see tokenSettings):
// - signed with the local HS256 secret (MDM_JWT_SECRET) or with a key of the identity
//   provider's JWKS, chosen by the token's `kid` (MDM_JWT_JWKS_URL, algorithms
//   MDM_JWT_ALGORITHMS); `none` and any algorithm not listed are refused;
// - `sub` and `exp` present; `exp - iat` (or `exp - now` without `iat`) at most
//   MDM_JWT_MAX_LIFETIME_S;
// - `iat` and `nbf` not later than now + MDM_JWT_CLOCK_SKEW_S, `exp` not earlier than
//   now - skew;
// - `iss` one of MDM_JWT_ISSUERS, `aud` contains MDM_JWT_AUDIENCE.
// Anything missing or wrong answers 401 UNAUTHENTICATED; only an identity provider
// whose keys cannot be fetched answers 503 UNAVAILABLE.
//
// A token signed with the local key is verified once and then remembered (by its
// exact text) until it expires, for at most a minute: the local key cannot change
// while the process runs and every other rule but the expiry is about the token
// alone. Tokens of the provider's keys are verified every time (a key can be
// retired), and so are refused tokens.
import { webcrypto } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

const REMEMBER_MS = 60_000;
const REMEMBER_AT_MOST = 10_000;
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384']);
const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function positiveInt(env, name, fallback) {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of seconds`);
  return value;
}

/** The token settings from the environment; throws on a configuration that cannot work. */
export function tokenSettings(env = process.env) {
  const settings = {
    secret: env.MDM_JWT_SECRET || '',
    jwksUrl: env.MDM_JWT_JWKS_URL || '',
    algorithms: list(env.MDM_JWT_ALGORITHMS || 'RS256,ES256'),
    issuers: list(env.MDM_JWT_ISSUERS),
    audience: env.MDM_JWT_AUDIENCE || 'mdm',
    maxLifetimeS: positiveInt(env, 'MDM_JWT_MAX_LIFETIME_S', 3600),
    clockSkewS: positiveInt(env, 'MDM_JWT_CLOCK_SKEW_S', 30),
    jwksCooldownS: positiveInt(env, 'MDM_JWT_JWKS_COOLDOWN_S', 30),
    jwksCacheS: positiveInt(env, 'MDM_JWT_JWKS_CACHE_S', 600),
  };
  if (!settings.secret && !settings.jwksUrl) {
    throw new Error('MDM_JWT_SECRET (local key) or MDM_JWT_JWKS_URL (identity provider) is required');
  }
  if (settings.issuers.length === 0) throw new Error('MDM_JWT_ISSUERS (allowed token issuers) is required');
  const unknown = settings.algorithms.filter((alg) => !ASYMMETRIC.has(alg));
  if (unknown.length > 0) throw new Error(`MDM_JWT_ALGORITHMS: not an asymmetric algorithm: ${unknown}`);
  return settings;
}

export class TokenRefused extends Error {}

function refused(message) {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } },
    },
  });
}

function unavailable() {
  return new GraphQLError('Tokens cannot be verified now: the identity provider keys are unreachable.', {
    extensions: { code: 'UNAVAILABLE', http: { status: 503 } },
  });
}

// jose's errors, told in the caller's terms. Anything else is our side failing.
function reasonFor(error) {
  if (error instanceof TokenRefused) return error.message;
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.reason === 'missing'
      ? `The token has no "${error.claim}" claim.`
      : `The token's "${error.claim}" claim is not accepted.`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token signature does not verify.';
  if (error instanceof errors.JWKSNoMatchingKey) return 'The token was signed with an unknown key.';
  if (error instanceof errors.JOSEAlgNotAllowed) return "The token's algorithm is not accepted.";
  if (error instanceof errors.JOSENotSupported) return "The token's algorithm is not accepted.";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'The token is malformed.';
  return null;
}

/** A function from a raw token to its verified claims (throws a GraphQLError). */
export function createTokenVerifier(settings) {
  // A CryptoKey imported once: jose verifies with it in half the time of a KeyObject.
  const secret = settings.secret
    ? webcrypto.subtle.importKey('raw', Buffer.from(settings.secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ])
    : null;
  const jwks = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl), {
        cooldownDuration: settings.jwksCooldownS * 1000,
        cacheMaxAge: settings.jwksCacheS * 1000,
      })
    : null;
  // The local secret signs HS256 only; the provider's keys only the asymmetric
  // algorithms: no token can make one kind of key stand in for the other.
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? settings.algorithms : [])];
  const keyFor = (header, token) => (header.alg === 'HS256' ? secret : jwks(header, token));
  const options = {
    algorithms,
    issuer: settings.issuers,
    audience: settings.audience,
    clockTolerance: settings.clockSkewS,
    requiredClaims: ['sub', 'exp'],
  };

  const verified = new Map(); // token -> { payload, until } (ms), oldest first

  return async function verify(token) {
    const known = verified.get(token);
    if (known !== undefined) {
      if (Date.now() < known.until) return known.payload;
      verified.delete(token);
    }
    let payload;
    let protectedHeader;
    try {
      ({ payload, protectedHeader } = await jwtVerify(token, keyFor, options));
      checkTimes(payload, settings);
    } catch (error) {
      const reason = reasonFor(error);
      if (reason) throw refused(reason);
      console.error(`gateway: token keys unavailable: ${error.name}: ${error.message}`);
      throw unavailable();
    }
    if (protectedHeader.alg === 'HS256') {
      if (verified.size >= REMEMBER_AT_MOST) verified.delete(verified.keys().next().value);
      // jose accepts a token while exp > now - skew (whole seconds): a second less here.
      const expires = (payload.exp + settings.clockSkewS - 1) * 1000;
      verified.set(token, { payload, until: Math.min(expires, Date.now() + REMEMBER_MS) });
    }
    return payload;
  };
}

function checkTimes(payload, { maxLifetimeS, clockSkewS }) {
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = payload;
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenRefused('The token has no subject.');
  if (iat !== undefined && iat > now + clockSkewS) throw new TokenRefused('The token is issued in the future.');
  if (exp - (iat ?? now) > maxLifetimeS) {
    throw new TokenRefused(`The token lives longer than ${maxLifetimeS} s.`);
  }
}

/** The bearer token of a request; a missing or malformed header is a refusal. */
export function bearerToken(request) {
  const header = request.headers.get('authorization');
  if (header == null) throw refused('A bearer token is required.');
  const match = /^Bearer +([A-Za-z0-9_.~+/=-]+) *$/i.exec(header);
  if (!match) throw refused('The authorization header must be "Bearer <token>".');
  return match[1];
}

/** Gateway plugin: verify every request's token, forward the claims to the subgraphs. */
export function useTokens(settings) {
  const verify = createTokenVerifier(settings);
  const claimsByRequest = new WeakMap();
  return {
    async onRequestParse({ request, serverContext }) {
      const payload = await verify(bearerToken(request));
      claimsByRequest.set(request, payload);
      // Validation runs before the context is built: rules that depend on the
      // caller (introspection for admins only) read the claims from here.
      if (serverContext) serverContext.jwt = { payload };
    },
    onContextBuilding({ context, extendContext }) {
      const payload = context.request && claimsByRequest.get(context.request);
      if (payload) extendContext({ jwt: { payload } });
    },
    // Always overwrite: a client cannot send extensions.jwt of its own to a subgraph.
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const payload = executionRequest.context?.jwt?.payload;
      const extensions = { ...executionRequest.extensions };
      if (payload) extensions.jwt = { payload };
      else delete extensions.jwt;
      setExecutionRequest({ ...executionRequest, extensions });
    },
  };
}
