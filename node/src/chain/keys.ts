/**
 * The node key: an encrypted JSON keystore (scrypt) opened with a password from `ICL_KEY_PASSWORD` or
 * typed at a prompt that does not echo. Neither the key nor the password is ever printed or logged.
 */
import fs from "node:fs";
import { Wallet } from "ethers";
import { BaseError, InputError, NotFoundError } from "../errors";

/**
 * Decrypts the keystore at `file` with `password`.
 * @throws NotFoundError when the file is missing; InputError when it is not a keystore or the
 * password is wrong (the message never contains the password).
 */
export async function loadNodeKey(file: string, password: string): Promise<Wallet> {
  let json: string;
  try {
    json = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`no key file at ${file}`);
    throw new BaseError(`the key file ${file} cannot be read`, { code: "KEY_UNREADABLE", cause: error });
  }
  let wallet: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch {
    // The cause is dropped on purpose: ethers' errors may echo their arguments.
    throw new InputError("the key file cannot be decrypted: wrong password or not a JSON keystore", { file });
  }
  return new Wallet(wallet.privateKey);
}

export interface PasswordSource {
  env: NodeJS.ProcessEnv;
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  output: NodeJS.WritableStream;
}

/**
 * The keystore password: `ICL_KEY_PASSWORD` (or `which.variable`) when set, otherwise read from `input` after a prompt on
 * `output`; on a terminal the typed characters are not echoed (raw mode).
 * @throws InputError when no password is available (empty input, Ctrl-C).
 */
export async function readKeyPassword(
  source: PasswordSource = { env: process.env, input: process.stdin, output: process.stderr },
  which: { variable: string; prompt: string } = {
    variable: "ICL_KEY_PASSWORD",
    prompt: "Node key password: ",
  },
): Promise<string> {
  const fromEnv = source.env[which.variable];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  source.output.write(which.prompt);
  const password = await readHidden(source.input);
  source.output.write("\n");
  if (password === null || password === "") throw new InputError("no key password given");
  return password;
}

function readHidden(input: PasswordSource["input"]): Promise<string | null> {
  return new Promise((resolve) => {
    const raw = input.isTTY === true && typeof input.setRawMode === "function";
    if (raw) input.setRawMode?.(true);
    let typed = "";
    const finish = (value: string | null) => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      if (raw) input.setRawMode?.(false);
      input.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === "\r" || char === "\n") return finish(typed);
        if (char === "\u0003" || char === "\u0004") return finish(null);
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    const onEnd = () => finish(typed === "" ? null : typed);
    input.on("data", onData);
    input.on("end", onEnd);
    input.resume();
  });
}
