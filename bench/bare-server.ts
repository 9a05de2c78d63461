// The W1 ceiling: a bare Bun.serve (its own process) answering every request with a constant body of
// the JWKS's size. Prints `bare listening port=<port>` when ready.
//   bun bench/bare-server.ts <bodyBytes>
const size = Number(process.argv[2] ?? "500");
const body = JSON.stringify({ keys: [{ pad: "x".repeat(Math.max(0, size - 20)) }] }).slice(0, size);
const headers = { "content-type": "application/json; charset=utf-8" };
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(body, { headers }) });
process.stdout.write(`bare listening port=${server.port}\n`);
