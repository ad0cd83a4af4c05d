// Composes the supergraph from the committed subgraph SDL files (gateway/subgraphs/).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

export const SUBGRAPHS = ['profile', 'matching', 'consent', 'distribution'];
const here = dirname(fileURLToPath(import.meta.url));
export const SDL_DIR = join(here, '..', 'subgraphs');

export function composeSupergraph(urls) {
  const services = SUBGRAPHS.map((name) => ({
    name,
    url: urls[name],
    typeDefs: parse(readFileSync(join(SDL_DIR, `${name}.graphql`), 'utf8')),
  }));
  const result = composeServices(services);
  if (result.errors && result.errors.length > 0) {
    const details = result.errors.map((e) => `- ${e.message}`).join('\n');
    throw new Error(`Supergraph composition failed:\n${details}`);
  }
  return result.supergraphSdl;
}
