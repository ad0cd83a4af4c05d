// Signs every subgraph request with a secret shared only with the subgraphs, so a
// subgraph can refuse calls that did not come through this gateway.
//
// Written here instead of the runtime's `hmacSignature` option because that one signs
// only the query and variables, not `extensions.jwt`: a replayed body with forged
// claims would still verify. This signs the exact body bytes sent, with a timestamp
// and a random nonce: a subgraph accepts a signature once, within a few seconds of
// its timestamp (mdm_common.auth), so a captured request cannot be sent again.
import { createHmac, randomBytes } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-mdm-gateway-timestamp';
export const NONCE_HEADER = 'x-mdm-gateway-nonce';
export const SIGNATURE_HEADER = 'x-mdm-gateway-signature';

export function sign(secret, timestamp, nonce, body) {
  return createHmac('sha256', secret).update(`${timestamp}.${nonce}.`).update(body).digest('base64url');
}

export function useGatewaySignature(secret) {
  if (!secret) throw new Error('MDM_GATEWAY_SECRET is required');
  return {
    onFetch({ options, setOptions }) {
      if (typeof options.body !== 'string') {
        throw new Error('Only JSON subgraph requests can be signed');
      }
      const timestamp = String(Date.now());
      const nonce = randomBytes(16).toString('base64url');
      const headers = new Headers(options.headers);
      headers.set(TIMESTAMP_HEADER, timestamp);
      headers.set(NONCE_HEADER, nonce);
      headers.set(SIGNATURE_HEADER, sign(secret, timestamp, nonce, options.body));
      setOptions({ ...options, headers: Object.fromEntries(headers) });
    },
  };
}
