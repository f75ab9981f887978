// npm run generate: writes the install manifests in deploy/ from code (src/api).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatedManifests } from '../src/api/generated.ts';

for (const [file, text] of Object.entries(generatedManifests())) {
  await writeFile(join(import.meta.dirname, '..', 'deploy', file), text);
  console.log(`wrote deploy/${file}`);
}
