// Runs the CLI from the TypeScript sources (no build needed): node --import tsx scripts/voxface.ts <args>
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).then((code) => process.exit(code));
