// RegisterByPassword, LoginByPassword.
import { Elysia } from "elysia";
import { readJsonObject, stringField } from "../body.ts";
import { jsonResponse, tokenResponseJson } from "../json-mapping.ts";
import { NO_PARSE, noteEmail, type RouteDeps } from "./route-deps.ts";

export const createPasswordRoutes = ({ api, meta, maxBodyBytes }: RouteDeps) =>
  new Elysia()
    .post(
      "/password/register",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = { email: stringField(body, "email"), password: stringField(body, "password") };
        noteEmail(meta, request, req.email);
        return jsonResponse(tokenResponseJson(await api.registerByPassword(req, meta.context(request))));
      },
      NO_PARSE,
    )
    .post(
      "/password/login",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = { email: stringField(body, "email"), password: stringField(body, "password") };
        noteEmail(meta, request, req.email);
        return jsonResponse(tokenResponseJson(await api.loginByPassword(req, meta.context(request))));
      },
      NO_PARSE,
    );
