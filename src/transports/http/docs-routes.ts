// Swagger UI at /api/docs for the generated OpenAPI document at /api/openapi.json. The swagger-ui-dist
// assets are embedded into the executable (import attribute `type: "file"`), so the page renders
// offline; no CDN. See docs/swagger.md for why this is served directly and not by @elysiajs/swagger.
import { Elysia } from "elysia";
import openApiDocument from "../../../generated/openapi.json";
import bundlePath from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import presetPath from "swagger-ui-dist/swagger-ui-standalone-preset.js" with { type: "file" };
import cssPath from "swagger-ui-dist/swagger-ui.css" with { type: "file" };

export const DOCS_PATH = "/api/docs";
export const OPENAPI_PATH = "/api/openapi.json";
const ASSET_CACHE = "public, max-age=86400";
const JS = "text/javascript; charset=utf-8";

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Identra API</title>
  <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script src="${DOCS_PATH}/swagger-ui-standalone-preset.js"></script>
  <script src="${DOCS_PATH}/swagger-initializer.js"></script>
</body>
</html>
`;

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
`;

const OPENAPI_TEXT = JSON.stringify(openApiDocument);

const asset = (path: string, type: string) => () =>
  new Response(Bun.file(path), { headers: { "content-type": type, "cache-control": ASSET_CACHE } });

const text = (body: string, type: string, cache: string) => () =>
  new Response(body, { headers: { "content-type": type, "cache-control": cache } });

/** Mounted inside the `/api` instance (paths relative to it). */
export const createDocsRoutes = () =>
  new Elysia()
    .get("/openapi.json", text(OPENAPI_TEXT, "application/json; charset=utf-8", "no-cache"))
    .get("/docs", text(PAGE, "text/html; charset=utf-8", "no-cache"))
    .get("/docs/", text(PAGE, "text/html; charset=utf-8", "no-cache"))
    .get("/docs/swagger-initializer.js", text(INITIALIZER, JS, "no-cache"))
    .get("/docs/swagger-ui.css", asset(cssPath, "text/css; charset=utf-8"))
    .get("/docs/swagger-ui-bundle.js", asset(bundlePath, JS))
    .get("/docs/swagger-ui-standalone-preset.js", asset(presetPath, JS));
