// Signs every subgraph request with a secret shared only with the subgraphs, so a
// subgraph can refuse calls that did not come through this gateway.
//
// Written here instead of the runtime's `hmacSignature` option because that one signs
// only the query and variables, not `extensions.jwt`: a replayed body with forged
// claims would still verify. This signs the exact body bytes sent, with a timestamp.
import { createHmac } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-mdm-gateway-timestamp';
export const SIGNATURE_HEADER = 'x-mdm-gateway-signature';

export function sign(secret, timestamp, body) {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('base64url');
}

export function useGatewaySignature(secret) {
  if (!secret) throw new Error('MDM_GATEWAY_SECRET is required');
  return {
    onFetch({ options, setOptions }) {
      if (typeof options.body !== 'string') {
        throw new Error('Only JSON subgraph requests can be signed');
      }
      const timestamp = String(Date.now());
      const headers = new Headers(options.headers);
      headers.set(TIMESTAMP_HEADER, timestamp);
      headers.set(SIGNATURE_HEADER, sign(secret, timestamp, options.body));
      setOptions({ ...options, headers: Object.fromEntries(headers) });
    },
  };
}
