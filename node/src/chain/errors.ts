/**
 * Turns what ethers throws into the node's error families: a contract revert becomes a
 * `ContractRevertError` named after the custom error (decoded with the ABIs of every ledger contract);
 * a transport fault (connection refused or reset, timeout, HTTP 5xx) becomes a retryable
 * `UnavailableError`; anything else stays a non-retryable `BaseError`.
 */
import { ErrorFragment, Interface, type InterfaceAbi, type Result } from "ethers";
import { BaseError, UnavailableError } from "../errors";
import {
  AgreementBook__factory,
  CarrierRegistry__factory,
  SettlementLedger__factory,
  SettlementToken__factory,
} from "../../../typechain-types";

/** A transaction or call reverted; `errorName` and `args` come from the decoded revert data. */
export class ContractRevertError extends BaseError {
  override name = "ContractRevertError";
  /** The custom error's name (`LedgerUnexpectedState`), `Error` for a string reason, `Panic`, or `unknown`. */
  readonly errorName: string;
  /** Decoded arguments by parameter name (positional index when unnamed); uint values are bigints. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Full signature, e.g. `LedgerZeroHash()`; null when the data matched no known error. */
  readonly signature: string | null;
  /** The raw revert data (`0x` when the node returned none). */
  readonly data: string;

  constructor(
    errorName: string,
    args: Record<string, unknown>,
    signature: string | null,
    data: string,
    cause?: unknown,
  ) {
    const shown = Object.entries(args)
      .map(([key, value]) => `${key}=${typeof value === "bigint" ? value.toString() : String(value)}`)
      .join(", ");
    super(`the contract reverted with ${errorName}(${shown})`, {
      code: "CONTRACT_REVERT",
      details: signature === null ? `revert data ${data}` : undefined,
      cause,
      retryable: false,
    });
    this.errorName = errorName;
    this.args = args;
    this.signature = signature;
    this.data = data;
  }
}

const BUILTIN_ERRORS = ["error Error(string message)", "error Panic(uint256 code)"];

/** One interface holding the custom errors of every ledger contract (and OpenZeppelin's), deduplicated. */
function buildErrorInterface(): Interface {
  const abis: InterfaceAbi[] = [
    SettlementLedger__factory.abi,
    CarrierRegistry__factory.abi,
    AgreementBook__factory.abi,
    SettlementToken__factory.abi,
  ];
  const bySignature = new Map<string, ErrorFragment>();
  for (const abi of abis) {
    for (const fragment of new Interface(abi).fragments) {
      if (fragment instanceof ErrorFragment) bySignature.set(fragment.format("sighash"), fragment);
    }
  }
  for (const text of BUILTIN_ERRORS) {
    const fragment = ErrorFragment.from(text);
    bySignature.set(fragment.format("sighash"), fragment);
  }
  return new Interface([...bySignature.values()]);
}

/** The errors every ledger contract can revert with. */
export const LEDGER_ERRORS: Interface = buildErrorInterface();

/**
 * Decodes revert data into a ContractRevertError; data that matches no known error gives
 * `errorName` "unknown" with the raw data kept.
 */
export function decodeRevertData(data: string, cause?: unknown): ContractRevertError {
  if (data.length >= 10) {
    try {
      const parsed = LEDGER_ERRORS.parseError(data);
      if (parsed !== null) {
        return new ContractRevertError(
          parsed.name,
          namedArgs(parsed.name, parsed.fragment.inputs, parsed.args),
          parsed.signature,
          data,
          cause,
        );
      }
    } catch {
      // malformed arguments for a known selector: report it as unknown with the raw data
    }
  }
  return new ContractRevertError("unknown", {}, null, data, cause);
}

/** Parameter names ethers' built-in Error/Panic fragments leave empty. */
const BUILTIN_NAMES: Record<string, string> = { Error: "message", Panic: "code" };

function namedArgs(
  errorName: string,
  inputs: readonly { name: string }[],
  values: Result,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  inputs.forEach((input, index) => {
    const name = input.name !== "" ? input.name : index === 0 ? BUILTIN_NAMES[errorName] : undefined;
    out[name ?? String(index)] = values[index];
  });
  return out;
}

/** Finds revert data in the nested shapes ethers and JSON-RPC nodes produce; null when there is none. */
export function findRevertData(error: unknown, depth = 0): string | null {
  if (depth > 6 || typeof error !== "object" || error === null) return null;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === "string" && /^0x([0-9a-fA-F]{2})*$/.test(data) && data.length >= 10) return data;
  if (typeof data === "object" && data !== null) {
    const inner = findRevertData(data, depth + 1);
    if (inner !== null) return inner;
  }
  for (const key of ["error", "info", "cause", "revert"]) {
    const inner = findRevertData(record[key], depth + 1);
    if (inner !== null) return inner;
  }
  return null;
}

const TRANSPORT_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const TRANSPORT_ETHERS_CODES = new Set(["NETWORK_ERROR", "TIMEOUT", "SERVER_ERROR"]);

/** True when `error` (or something it wraps) is a transport fault worth retrying. */
export function isTransientRpcError(error: unknown, depth = 0): boolean {
  if (depth > 6 || typeof error !== "object" || error === null) return false;
  if (error instanceof BaseError) return error.retryable;
  const record = error as Record<string, unknown>;
  const code = record.code;
  const status = (record.response as { statusCode?: unknown } | undefined)?.statusCode ?? record.status;
  // A 4xx answer (bad credentials, forbidden) will not heal by waiting; 429 (rate limited) will.
  if (typeof status === "number") return status >= 500 || status === 429;
  if (typeof code === "string" && (TRANSPORT_ERRNOS.has(code) || TRANSPORT_ETHERS_CODES.has(code)))
    return true;
  if (Array.isArray(record.errors) && record.errors.some((e) => isTransientRpcError(e, depth + 1)))
    return true;
  return ["cause", "error", "info"].some((key) => isTransientRpcError(record[key], depth + 1));
}

/** True for the node's refusal of a nonce that is already used. */
export function isNonceTooLow(error: unknown): boolean {
  const text = errorText(error);
  return /nonce too low|nonce has already been used|NONCE_EXPIRED/i.test(text);
}

/** True when the node already holds the very transaction being broadcast. */
export function isAlreadyKnown(error: unknown): boolean {
  return /already known|known transaction|already imported/i.test(errorText(error));
}

function errorText(error: unknown, depth = 0): string {
  if (depth > 6 || typeof error !== "object" || error === null) return typeof error === "string" ? error : "";
  const record = error as Record<string, unknown>;
  const own = [record.code, record.message, record.shortMessage].filter((v) => typeof v === "string");
  return [own.join(" "), ...["error", "info", "cause"].map((k) => errorText(record[k], depth + 1))].join(" ");
}

/**
 * Maps anything an RPC call threw into the node's errors: a decoded ContractRevertError when there is
 * revert data (or ethers reports a CALL_EXCEPTION), a retryable UnavailableError for transport faults,
 * else a BaseError with the message kept as details.
 */
export function toChainError(error: unknown, what: string): BaseError {
  if (error instanceof BaseError) return error;
  const data = findRevertData(error);
  if (data !== null) return decodeRevertData(data, error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "CALL_EXCEPTION") return decodeRevertData("0x", error);
  const message = error instanceof Error ? error.message : String(error);
  if (isTransientRpcError(error)) {
    return new UnavailableError(`the chain node is unreachable (${what})`, {
      code: "RPC_UNAVAILABLE",
      details: message,
      cause: error,
    });
  }
  return new BaseError(`the chain node refused ${what}`, {
    code: "RPC_ERROR",
    details: message,
    cause: error,
  });
}
