// Child-process entry of quietProbe(): probes the execution providers and prints them as JSON,
// so the native libraries' stderr (Dawn, CUDA loaders) lands in a pipe the parent reads.
import { loadOrt, probeProviders } from "../runtime/index.js";

(await loadOrt()).env.logLevel = "fatal";
process.stdout.write(`${JSON.stringify(await probeProviders())}\n`);
