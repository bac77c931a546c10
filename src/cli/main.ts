#!/usr/bin/env node
// The `dinov2` executable: runs the command line in process.argv and sets the exit code.
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(process.argv.slice(2));
