// SendLoginEmailCode, LoginByEmailCode.
import { Elysia } from "elysia";
import { boolField, readJsonObject, stringField } from "../body.ts";
import { jsonResponse, tokenResponseJson } from "../json-mapping.ts";
import { NO_PARSE, noteEmail, type RouteDeps } from "./route-deps.ts";

export const createEmailRoutes = ({ api, meta, maxBodyBytes }: RouteDeps) =>
  new Elysia()
    .post(
      "/email/code",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = { email: stringField(body, "email"), useHtml: boolField(body, "use_html") };
        noteEmail(meta, request, req.email);
        await api.sendLoginEmailCode(req, meta.context(request));
        return jsonResponse({});
      },
      NO_PARSE,
    )
    .post(
      "/email/login",
      async ({ request }) => {
        const body = await readJsonObject(request, maxBodyBytes);
        const req = { email: stringField(body, "email"), code: stringField(body, "code") };
        noteEmail(meta, request, req.email);
        return jsonResponse(tokenResponseJson(await api.loginByEmailCode(req, meta.context(request))));
      },
      NO_PARSE,
    );
