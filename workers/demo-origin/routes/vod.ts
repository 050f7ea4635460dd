// /vod/…: the ffmpeg-made VOD fixture sets, served as the static files they are.
import { Hono } from "hono";
import { serveAsset } from "../assets";
import { jsonError } from "../json-error";
import type { DemoOriginApp } from "../types";

export const vod = new Hono<DemoOriginApp>().get("/*", async (c) => {
  const path = new URL(c.req.url).pathname;
  return (await serveAsset(c.env, c.req.raw, path)) ?? jsonError(c, 404, "not_found", `Nothing is at ${path}.`);
});
