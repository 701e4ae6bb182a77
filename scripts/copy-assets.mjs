// Part of `npm run build`: tsc compiles the TypeScript, this copies the files the daemon serves as
// they are (the web console's script and stylesheet) next to the compiled modules that read them.
import { cpSync } from 'node:fs';

cpSync('src/http/console/assets', 'dist/http/console/assets', { recursive: true });
