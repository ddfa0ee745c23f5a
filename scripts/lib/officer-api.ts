/**
 * An officer at a carrier node's HTTP API, the way the console does it in a browser with a wallet:
 * signs in (Sign-In with Ethereum: `POST /api/v1/auth/challenge`, then `/sign-in` with the signed
 * message; a session cookie and a CSRF token), fetches the EIP-712 approval to sign, signs it with their
 * own key and hands it in; the node submits the approvals with its own key once a threshold signed.
 */
import type { TypedDataField, Wallet } from "ethers";

/** A signed-in officer's session at one node. */
export interface OfficerSession {
  url: string;
  officer: Wallet;
  cookie: string;
  csrfToken: string;
}

/** What the node answered to a handed-in approval. */
export interface ApprovalProgress {
  status: "waiting" | "submitted" | "approved" | "held";
  signers: string[];
  threshold: number;
  txHash: string | null;
}

/**
 * Signs `officer` in at the node whose gateway is at `url`.
 * @throws Error with the gateway's error code and message when it refuses.
 */
export async function signIn(url: string, officer: Wallet): Promise<OfficerSession> {
  const { message } = (await call(url, "POST", "/api/v1/auth/challenge", { address: officer.address }))
    .body as {
    message: string;
  };
  const signature = await officer.signMessage(message);
  const answer = await call(url, "POST", "/api/v1/auth/sign-in", { message, signature });
  const cookie = (answer.headers.get("set-cookie") ?? "").split(";")[0]!;
  return { url, officer, cookie, csrfToken: (answer.body as { csrfToken: string }).csrfToken };
}

/**
 * The officer approves `agreement`'s `month` (with `partial` the undisputed part of a dispute): fetches
 * the typed data (`GET …/approval`), signs it, hands it in (`POST …/approvals`).
 * @throws Error with the gateway's error code and message when it refuses.
 */
export async function approve(
  session: OfficerSession,
  agreement: string,
  month: string,
  partial: boolean,
): Promise<ApprovalProgress> {
  const where = `/api/v1/periods/${encodeURIComponent(agreement)}/${month}`;
  const typed = (await call(session.url, "GET", `${where}/approval?partial=${partial}`, undefined, session))
    .body as {
    domain: Record<string, unknown>;
    types: Record<string, TypedDataField[]>;
    message: Record<string, unknown>;
  };
  const { EIP712Domain: _domain, ...types } = typed.types;
  const signature = await session.officer.signTypedData(typed.domain, types, typed.message);
  const answer = await call(
    session.url,
    "POST",
    `${where}/approvals`,
    { approval: typed.message, signature },
    session,
  );
  return answer.body as ApprovalProgress;
}

async function call(
  url: string,
  method: "GET" | "POST",
  route: string,
  body: unknown,
  session?: OfficerSession,
): Promise<{ body: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (session) {
    headers.cookie = session.cookie;
    if (method !== "GET") headers["x-csrf-token"] = session.csrfToken;
  }
  const response = await fetch(url + route, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as { error?: { code: string; message: string } };
  if (!response.ok) {
    throw new Error(
      `${method} ${route}: ${response.status} ${json.error?.code ?? ""} ${json.error?.message ?? ""}`,
    );
  }
  return { body: json, headers: response.headers };
}
