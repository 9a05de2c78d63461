// GetOAuthAuthorizationURL, LoginByOAuth, BindUserByOAuth, ListOAuthProviders.
import { Elysia } from "elysia";
import { queryField, readJsonObject, stringField } from "../body.ts";
import { jsonResponse, oauthBindJson, oauthLoginJson, providersJson } from "../json-mapping.ts";
import { NO_PARSE, type RouteDeps } from "./route-deps.ts";

export const createOAuthRoutes = ({ api, meta, maxBodyBytes }: RouteDeps) =>
  new Elysia()
    .get("/oauth/url", async ({ request }) => {
      const url = new URL(request.url);
      const res = await api.getOAuthAuthorizationUrl(
        { provider: queryField(url, "provider"), redirectUrl: queryField(url, "redirect_url") },
        meta.context(request),
      );
      return jsonResponse({ url: res.url ?? "", state: res.state ?? "" });
    })
    .post(
      "/oauth/login",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = { code: stringField(body, "code"), state: stringField(body, "state") };
        return jsonResponse(oauthLoginJson(await api.loginByOAuth(req, meta.context(request))));
      },
      NO_PARSE,
    )
    .post(
      "/oauth/bind",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = {
          accessToken: stringField(body, "access_token"),
          code: stringField(body, "code"),
          state: stringField(body, "state"),
        };
        return jsonResponse(oauthBindJson(await api.bindUserByOAuth(req, meta.context(request))));
      },
      NO_PARSE,
    )
    .get("/oauth/providers", async () => jsonResponse(providersJson(await api.listOAuthProviders())));
