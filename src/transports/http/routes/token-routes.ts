// RefreshToken, RevokeRefreshToken.
import { Elysia } from "elysia";
import { readJsonObject, stringField } from "../body.ts";
import { jsonResponse, tokenResponseJson } from "../json-mapping.ts";
import { NO_PARSE, type RouteDeps } from "./route-deps.ts";

export const createTokenRoutes = ({ api, meta, maxBodyBytes }: RouteDeps) =>
  new Elysia()
    .post(
      "/token/refresh",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = { refreshToken: stringField(body, "refresh_token") };
        return jsonResponse(tokenResponseJson(await api.refreshToken(req, meta.context(request))));
      },
      NO_PARSE,
    )
    .post(
      "/token/revoke",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        await api.revokeRefreshToken({ refreshToken: stringField(body, "refresh_token") }, meta.context(request));
        return jsonResponse({});
      },
      NO_PARSE,
    );
