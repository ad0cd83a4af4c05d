// Every error leaving the gateway carries extensions.code, like the subgraphs' errors,
// so clients can branch on a stable code instead of parsing messages.
const BY_STATUS = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

// graphql-armor's limits reject while parsing, so their errors arrive dressed as
// syntax errors; they are limits, not typos.
const LIMIT = /^(?:Syntax Error: )?(.*limit of \d+ exceeded.*)$/;

function codeFor(error) {
  const extensions = error.extensions ?? {};
  // Before any existing code: the runtime labels the token limit a parse failure.
  if (LIMIT.test(error.message)) return 'QUERY_TOO_COMPLEX';
  if (extensions.code) return extensions.code;
  // Variables that do not fit their declared types (e.g. an unknown enum value).
  if (/^Variable "\$/.test(error.message)) return 'BAD_USER_INPUT';
  const status = extensions.http?.status;
  if (BY_STATUS[status]) return BY_STATUS[status];
  if (/^Syntax Error/.test(error.message)) return 'GRAPHQL_PARSE_FAILED';
  if (error.locations || status === 400) return 'GRAPHQL_VALIDATION_FAILED';
  return 'INTERNAL_SERVER_ERROR';
}

function withCodes(result) {
  if (!result || !Array.isArray(result.errors) || result.errors.length === 0) return result;
  for (const error of result.errors) {
    const code = codeFor(error);
    const limit = LIMIT.exec(error.message);
    if (limit) error.message = limit[1];
    // GraphQLError.extensions is read-only in graphql-js 16; redefine it.
    Object.defineProperty(error, 'extensions', {
      value: { ...(error.extensions ?? {}), code },
      enumerable: true,
      configurable: true,
    });
  }
  return result;
}

// The runtime answers some refusals before any GraphQL result exists (an unknown
// path, a body in another media type) with an empty body; they get one with a code.
function isJson(response) {
  return /json/.test(response.headers.get('content-type') ?? '');
}

export function useErrorCodes() {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map(withCodes));
      else if (result && typeof result === 'object' && 'errors' in result) setResult(withCodes(result));
    },
    onResponse({ response, setResponse, fetchAPI }) {
      if (response.status < 400 || isJson(response)) return;
      const status = response.status;
      const code = BY_STATUS[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR');
      const headers = new fetchAPI.Headers(response.headers);
      headers.set('content-type', 'application/json; charset=utf-8');
      headers.delete('content-length');
      const message = response.statusText || `HTTP ${status}`;
      const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
      setResponse(new fetchAPI.Response(body, { status, headers }));
    },
  };
}
