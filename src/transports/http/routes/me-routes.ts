// GetCurrentUserLoginInfo.
import { Elysia } from "elysia";
import { readJsonObject, stringField } from "../body.ts";
import { jsonResponse, loginInfoJson } from "../json-mapping.ts";
import { NO_PARSE, type RouteDeps } from "./route-deps.ts";

export const createMeRoutes = ({ api, meta, maxBodyBytes }: RouteDeps) =>
  new Elysia().post(
    "/me/login-info",
    async ({ request }) => {
      const body = await readJsonObject(request, maxBodyBytes);
      const req = { accessToken: stringField(body, "access_token") };
      return jsonResponse(loginInfoJson(await api.getCurrentUserLoginInfo(req, meta.context(request))));
    },
    NO_PARSE,
  );
