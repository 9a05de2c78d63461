// Loaded before every test file (bunfig.toml). Keeps test runs quiet and deterministic.
process.env.IDENTRA_LOG_LEVEL ??= "error";
