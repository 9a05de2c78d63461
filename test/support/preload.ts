// Loaded before every test file (bunfig.toml). The suites start real servers and processes, so the
// default per-test timeout is raised; logs stay quiet unless a test asks for them.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);
process.env.IDENTRA_LOG_LEVEL ??= "error";
