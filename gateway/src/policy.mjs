// What the gateway accepts, from whom and how often (docs/architecture.md, "Request policy").
//
// Environment (defaults in brackets):
//   MDM_MAX_DEPTH, MDM_MAX_ALIASES, MDM_MAX_TOKENS, MDM_MAX_BODY_BYTES
//       [gateway/limits.json, written by `make schema` from the values the subgraphs
//        enforce; the body limit admits the largest request the schema documents]
//   MDM_CORS_ORIGINS        comma-separated origins browsers may call from
//                           [the console's, http://127.0.0.1:4100]
//   MDM_RATE_LIMIT_MAX      root fields a client may run per window; 0: no limit [500]
//   MDM_RATE_LIMIT_WINDOW_S the window, in seconds [1]
//   MDM_PERSISTED_DOCUMENTS path of a manifest ({"<sha256>": "<document>"} or Apollo's
//                           format): only its documents run (trusted documents) [unset]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store, useRateLimiter } from '@envelop/rate-limiter';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));
export const LIMITS_FILE = join(here, '..', 'limits.json');
const CONSOLE_ORIGIN = 'http://127.0.0.1:4100';
const OPERATION_MEDIA_TYPE = 'application/json';

function intSetting(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

export function loadPolicy(env) {
  const limits = JSON.parse(readFileSync(LIMITS_FILE, 'utf8'));
  return {
    maxBodyBytes: intSetting(env, 'MDM_MAX_BODY_BYTES', limits.maxBodyBytes),
    maxDepth: intSetting(env, 'MDM_MAX_DEPTH', limits.maxDepth),
    maxAliases: intSetting(env, 'MDM_MAX_ALIASES', limits.maxAliases),
    maxTokens: intSetting(env, 'MDM_MAX_TOKENS', limits.maxTokens),
    corsOrigins: (env.MDM_CORS_ORIGINS ?? CONSOLE_ORIGIN)
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    rateLimitMax: intSetting(env, 'MDM_RATE_LIMIT_MAX', 500),
    rateLimitWindowS: Math.max(1, intSetting(env, 'MDM_RATE_LIMIT_WINDOW_S', 1)),
    persistedDocuments: env.MDM_PERSISTED_DOCUMENTS ? readManifest(env.MDM_PERSISTED_DOCUMENTS) : null,
  };
}

// --- HTTP: what may carry an operation ----------------------------------------------

function refuse(res, status, code, message, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

// GraphQL over HTTP: a POST carries its operation as application/json (UTF-8), whatever
// it accepts back (application/graphql-response+json or application/json). Form,
// multipart and application/graphql bodies are refused, so no HTML form can post one.
export function carriesAnOperation(contentType) {
  if (!contentType) return false;
  const [kind, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (kind !== OPERATION_MEDIA_TYPE) return false;
  const charset = params.find((p) => p.startsWith('charset='));
  return !charset || charset.slice('charset='.length).replaceAll('"', '') === 'utf-8';
}

// Before the runtime reads a byte: a POST needs its length, within the limit, and JSON.
// GET runs queries only (the runtime answers a mutation over GET with 405).
export function admit(policy, req, res) {
  if (req.method !== 'POST') return true;
  const length = Number.parseInt(req.headers['content-length'] ?? '', 10);
  if (Number.isNaN(length)) {
    refuse(res, 411, 'LENGTH_REQUIRED', 'POST requests need a Content-Length header.');
    return false;
  }
  if (length > policy.maxBodyBytes) {
    refuse(res, 413, 'PAYLOAD_TOO_LARGE', `Request body over ${policy.maxBodyBytes} bytes.`);
    return false;
  }
  if (!carriesAnOperation(req.headers['content-type'])) {
    refuse(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `Operations are sent as ${OPERATION_MEDIA_TYPE}.`, {
      accept: OPERATION_MEDIA_TYPE,
    });
    return false;
  }
  return true;
}

// --- who may see the schema -----------------------------------------------------------

const claimsOf = (context) => context?.jwt?.payload;
const isAdmin = (context) => {
  const roles = claimsOf(context)?.roles;
  return Array.isArray(roles) && roles.includes('admin');
};

const SUGGESTION = /\s*Did you mean .*$/s;

function withoutSuggestion(error) {
  const message = error.message.replace(SUGGESTION, '');
  if (message === error.message) return error;
  // A copy: validation results are cached and shared between callers.
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

// "Did you mean ...?" names fields and values a caller did not ask for: admins only.
// (Non-admins also validate with the no-introspection rule, so the runtime's
// validation cache keeps their results apart from an admin's.)
function useSuggestionsForAdminsOnly() {
  return {
    onValidate({ context }) {
      if (isAdmin(context)) return undefined;
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map(withoutSuggestion));
      };
    },
    onExecute({ args }) {
      if (isAdmin(args.contextValue)) return undefined;
      return {
        onExecuteDone({ result, setResult }) {
          if (Array.isArray(result?.errors) && result.errors.length > 0) {
            setResult({ ...result, errors: result.errors.map(withoutSuggestion) });
          }
        },
      };
    },
  };
}

// --- how often: one budget per client -------------------------------------------------

// The rate limiter's store, keyed by the client alone: every root field a client runs
// counts against one budget, whichever field it is. Idle clients are swept out.
class ClientWindows extends Store {
  constructor(windowMs) {
    super();
    this.windowMs = windowMs;
    this.calls = new Map();
    setInterval(() => this.sweep(), windowMs).unref();
  }
  getForIdentity({ contextIdentity }) {
    return this.calls.get(contextIdentity) ?? [];
  }
  setForIdentity({ contextIdentity }, timestamps) {
    if (timestamps.length > 0) this.calls.set(contextIdentity, timestamps);
    else this.calls.delete(contextIdentity);
  }
  retryAfterS(client) {
    const oldest = this.calls.get(client)?.[0] ?? Date.now();
    return Math.max(1, Math.ceil((oldest + this.windowMs - Date.now()) / 1000));
  }
  sweep() {
    const now = Date.now();
    for (const [client, timestamps] of this.calls) {
      if (timestamps.at(-1) + this.windowMs <= now) this.calls.delete(client);
    }
  }
}

// The token's subject; the peer address for a request without one.
function clientOf(context) {
  const subject = claimsOf(context)?.sub;
  if (typeof subject === 'string' && subject) return `sub:${subject}`;
  return `ip:${context?.req?.socket?.remoteAddress ?? 'unknown'}`;
}

function useClientRateLimit(max, windowS) {
  const store = new ClientWindows(windowS * 1000);
  const rule = { max, window: `${windowS}s`, uncountRejected: true };
  let refused = null;
  return useRateLimiter({
    identifyFn: clientOf,
    store,
    configByField: [
      { type: 'Query', field: '*', ...rule },
      { type: 'Mutation', field: '*', ...rule },
    ],
    // Called just before transformError, for the same refusal.
    onRateLimitError({ context }) {
      refused = clientOf(context);
    },
    transformError() {
      const retryAfter = String(store.retryAfterS(refused));
      return new GraphQLError(`Rate limit: at most ${max} operations every ${windowS} s.`, {
        extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': retryAfter } } },
      });
    },
  });
}

// --- trusted documents ----------------------------------------------------------------

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

export function readManifest(path) {
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  const entries = Array.isArray(manifest.operations)
    ? manifest.operations.map((o) => [o.id, o.body]) // Apollo's persisted query manifest
    : Object.entries(manifest);
  return new Map(entries);
}

// A client may send a trusted document by id (`documentId`, or Apollo's
// `extensions.persistedQuery.sha256Hash`) or as its full text, which then counts as
// its id's document when its hash is in the manifest (so the console, which sends
// texts, works unchanged). The runtime's persisted documents plugin refuses the rest.
function useTextAsDocumentId(documents) {
  return {
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult, setRequestParserResult }) {
          const asId = (params) => {
            if (typeof params?.query !== 'string') return params;
            const id = sha256(params.query);
            if (!documents.has(id)) return params;
            const { query, ...rest } = params;
            return { ...rest, documentId: id };
          };
          setRequestParserResult(
            Array.isArray(requestParserResult) ? requestParserResult.map(asId) : asId(requestParserResult),
          );
        },
      };
    },
  };
}

const persistedError = (message, code) => ({ message, extensions: { code, http: { status: 400 } } });

// --- wiring ---------------------------------------------------------------------------

// Options of createGatewayRuntime.
export function runtimeOptions(policy) {
  const options = {
    // No CORS headers for an origin off the list (browsers then refuse the answer);
    // never credentials: clients send tokens in a header, not cookies.
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (!origin || !policy.corsOrigins.includes(origin)) return false;
      return {
        origin,
        credentials: false,
        methods: ['GET', 'POST'],
        allowedHeaders: ['authorization', 'content-type', 'accept', 'traceparent'],
        exposedHeaders: ['retry-after'],
        maxAge: 600,
      };
    },
    disableIntrospection: { disableIf: ({ context }) => !isAdmin(context) },
  };
  if (policy.persistedDocuments) {
    const documents = policy.persistedDocuments;
    options.persistedDocuments = {
      getPersistedOperation: (id) => documents.get(id) ?? null,
      allowArbitraryDocuments: false,
      customErrors: {
        notFound: persistedError('Unknown persisted document.', 'PERSISTED_QUERY_NOT_FOUND'),
        keyNotFound: persistedError('A persisted document id is required.', 'PERSISTED_QUERY_ID_REQUIRED'),
        persistedQueryOnly: persistedError('Only persisted documents run here.', 'PERSISTED_QUERY_ONLY'),
      },
    };
  }
  return options;
}

// Plugins, after JWT verification (they read its claims).
export function policyPlugins(policy) {
  return [
    ...(policy.persistedDocuments ? [useTextAsDocumentId(policy.persistedDocuments)] : []),
    maxDepthPlugin({ n: policy.maxDepth, exposeLimits: true }),
    maxAliasesPlugin({ n: policy.maxAliases, exposeLimits: true }),
    maxTokensPlugin({ n: policy.maxTokens, exposeLimits: true }),
    useSuggestionsForAdminsOnly(),
    ...(policy.rateLimitMax > 0 ? [useClientRateLimit(policy.rateLimitMax, policy.rateLimitWindowS)] : []),
  ];
}
