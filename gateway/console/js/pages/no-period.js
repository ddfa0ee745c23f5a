/**
 * A period address that names no period — a month before the agreement starts, one that has not
 * begun, a mistyped month or an agreement nobody knows — says so in the API's words, instead of
 * drawing an empty period or "Something went wrong".
 */
import { ApiError } from "../api.js";
import { h, mount } from "../dom.js";

/** Whether `error` is the API refusing the period itself (404 unknown, 400 malformed). */
export function refusesPeriod(error) {
  return error instanceof ApiError && (error.status === 404 || error.status === 400);
}

export function noPeriodPage(app, agreement, period, error) {
  mount(
    app,
    h("h1", { id: "page-refused" }, "No such period"),
    h("p", { id: "period-refused" }, `${upperFirst(error.message)}.`),
    h("p.muted", `The address named ${agreement ?? "no agreement"} ${period ?? ""}.`),
    h("p", h("a", { href: "#/periods" }, "All periods")),
  );
}

function upperFirst(text) {
  return text.replace(/^./, (c) => c.toUpperCase()).replace(/\.$/, "");
}
