// `node src/compose-cli.mjs [out-file]`: checks that the committed SDL composes and
// writes the supergraph (with placeholder URLs) for inspection.
import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUBGRAPHS } from './compose.mjs';

const urls = Object.fromEntries(SUBGRAPHS.map((n) => [n, `http://${n}.invalid/graphql`]));
try {
  const sdl = composeSupergraph(urls);
  if (process.argv[2]) writeFileSync(process.argv[2], sdl);
  console.log(`composed ${SUBGRAPHS.length} subgraphs: ${sdl.length} characters of supergraph SDL`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
